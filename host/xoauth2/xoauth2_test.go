package xoauth2

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cctoken/cctoken/host"
)

func TestTokenSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"tok","token_type":"bearer","expires_in":600}`)
	}))
	defer srv.Close()
	preset := fmt.Sprintf("type: oauth_client_credentials\nurl: %s/token\nusers:\n- {username: u, client_id: c, client_secret: s}\n", srv.URL)
	c, err := host.New(context.Background(), []byte(preset), host.WithCacheDir(filepath.Join(os.TempDir(), "cctoken-host-test-cache")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ts oauth2.TokenSource = TokenSource(context.Background(), c, "u")
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok" || tok.Type() != "Bearer" || !tok.Valid() {
		t.Fatalf("token = %+v", tok)
	}
	if _, err := TokenSource(context.Background(), c, "nobody").Token(); err == nil {
		t.Fatal("unknown user should fail")
	}
}

// A DPoP-bound token is refused: oauth2.Transport cannot add its proofs.
func TestTokenSourceRefusesDPoP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DPoP") == "" {
			http.Error(w, "no proof", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"dpop-tok","token_type":"DPoP","expires_in":600}`)
	}))
	defer srv.Close()
	preset := fmt.Sprintf("type: oauth_client_credentials\nurl: %s/token\nusers:\n- {username: u, client_id: c, client_secret: s, dpop: true}\n", srv.URL)
	c, err := host.New(context.Background(), []byte(preset), host.WithCacheDir(filepath.Join(os.TempDir(), "cctoken-host-test-cache")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := TokenSource(context.Background(), c, "u").Token()
	if err == nil || !strings.Contains(err.Error(), "DPoP") || strings.Contains(err.Error(), "dpop-tok") {
		t.Fatalf("got %v, %v; want the DPoP error without the token", tok, err)
	}
}
