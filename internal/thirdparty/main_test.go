package main

import (
	"os"
	"strings"
	"testing"
)

func TestLicenseName(t *testing.T) {
	cases := map[string]bool{
		"LICENSE": true, "LICENSE.txt": true, "LICENSE-MIT": true, "license.md": true,
		"NOTICE": true, "PATENTS": true, "COPYING": true, "LICENCE": true,
		"README.md": false, "licensed.go": false, "notice_test.go": false, "go.mod": false,
	}
	for name, want := range cases {
		if got := licenseName.MatchString(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestSameApache(t *testing.T) {
	ours, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	filled := strings.Replace(string(ours), "Copyright [yyyy] [name of copyright owner]", "Copyright 2020-2023 wazero authors", 1)
	cases := []struct {
		name, text string
		want       bool
	}{
		{"ours", string(ours), true},
		{"appendix filled in", filled, true},
		{"leading blank line", "\n" + string(ours), true},
		{"a changed term", strings.Replace(string(ours), "perpetual", "temporary", 1), false},
		{"MIT", "Permission is hereby granted, free of charge, to any person", false},
	}
	for _, tc := range cases {
		if got := sameApache([]byte(tc.text), ours); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
