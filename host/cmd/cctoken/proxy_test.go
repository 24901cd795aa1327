package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInboundKey(t *testing.T) {
	long := "0123456789abcdef"
	for _, tc := range []struct {
		listen, key string
		set         bool
		want, fail  string
	}{
		{listen: "127.0.0.1:8080"},
		{listen: "[::1]:8080"},
		{listen: "localhost:0"},
		{listen: "unix:/tmp/x.sock"},
		{listen: "127.0.0.1:8080", key: long, set: true, want: long},
		{listen: "0.0.0.0:8080", fail: "CCTOKEN_INBOUND_KEY"},
		{listen: ":8080", fail: "is not loopback"},
		{listen: "10.0.0.1:8080", fail: "at least 16 characters"},
		{listen: "example.com:8080", fail: "is not loopback"},
		{listen: "0.0.0.0:8080", key: long, set: true, want: long},
		{listen: "0.0.0.0:8080", key: "short", set: true, fail: "at least 16"},
		{listen: "127.0.0.1:8080", key: "", set: true, fail: "at least 16"},
		{listen: "8080", fail: "HOST:PORT"},
	} {
		if tc.set {
			t.Setenv(inboundKeyEnv, tc.key)
		} else {
			os.Unsetenv(inboundKeyEnv)
		}
		got, err := inboundKey(tc.listen)
		switch {
		case tc.fail != "":
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("%s: got %q, %v; want an error with %q", tc.listen, got, err, tc.fail)
			}
		case err != nil || got != tc.want:
			t.Errorf("%s: got %q, %v; want %q", tc.listen, got, err, tc.want)
		}
	}
}

func TestUnixSocketMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	for range 2 { // the second start replaces the socket the first left
		ln, where, err := listenOn("unix:" + path)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 || where != "unix:"+path {
			t.Fatalf("%v %v %s", fi.Mode(), err, where)
		}
		// Leave the file behind, as a killed process does.
		ln.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
		ln.Close()
	}
}
