package xoauth2

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
