package host_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cctoken/cctoken/host"
)

// exampleServer is a client-credentials token endpoint at /token that
// knows one client, reporting-service with the secret s3cret, and an API
// at /api that greets the bearer of the token it issues. It listens on
// 127.0.0.1, where a preset may use plain http.
func exampleServer() *httptest.Server {
	const token = "token-for-reporting"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		id, secret, _ := r.BasicAuth()
		if id != "reporting-service" || secret != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="example"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"unknown client or wrong secret"}`)
			return
		}
		io.WriteString(w, `{"access_token":"`+token+`","token_type":"Bearer","expires_in":3600,"scope":"read"}`)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello, team %s\n", r.Header.Get("X-Team"))
	})
	return httptest.NewServer(mux)
}

// examplePreset is a preset for the example server's one client; the secret
// comes from the environment variable REPORTING_SECRET.
func examplePreset(srv *httptest.Server) []byte {
	return []byte(`preset:
- type: oauth_client_credentials
  url: ` + srv.URL + `/token
  users:
  - username: reporting
    client_id: reporting-service
    client_secret: ${env:REPORTING_SECRET}
    scopes: [read]
    headers: {X-Team: reports}
`)
}

// env stands in for the process environment (the default is os.LookupEnv).
func env(name string) (string, bool) {
	if name == "REPORTING_SECRET" {
		return "s3cret", true
	}
	return "", false
}

// New loads a preset; Token gets a user's token, from the token endpoint
// the first time and from the cache until it is due for a refresh.
func Example() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := host.New(ctx, examplePreset(srv), host.WithEnv(env))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, u := range c.Users() {
		fmt.Println("user", u.Username, "client", u.ClientID, "method", u.AuthMethod)
	}
	tok, err := c.Token(ctx, "reporting")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.TokenType, tok.AccessToken, tok.Scopes, tok.ExpirySource)
	// Output:
	// user reporting client reporting-service method client_secret_basic
	// Bearer token-for-reporting [read] expires_in
}

// Transport sends requests as a user: the token, and the user's headers
// and cookies, on every request.
func ExampleClient_Transport() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := host.New(ctx, examplePreset(srv), host.WithEnv(env))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	api := &http.Client{Transport: c.Transport("reporting", nil)}
	resp, err := api.Get(srv.URL + "/api")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.Status, ": ", string(body))
	// Output: 200 OK: hello, team reports
}

// A token endpoint that refuses the client answers an *Error whose Code
// is the OAuth error; compare it with the Code constants.
func ExampleError() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	wrong := func(string) (string, bool) { return "not-the-secret", true }
	c, err := host.New(ctx, examplePreset(srv), host.WithEnv(wrong))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_, err = c.Token(ctx, "reporting")
	var he *host.Error
	if errors.As(err, &he) && he.Code == host.CodeInvalidClient {
		fmt.Println("refused:", he.Code, he.Status, he.Description)
	}
	// Output: refused: invalid_client 401 unknown client or wrong secret
}

// Lint reports every problem in a preset at once, with the line and column
// of each; no request is sent and no environment variable is read.
func ExampleLint() {
	issues, err := host.Lint(context.Background(), []byte(`preset:
- type: oauth_client_credentials
  url: http://auth.example.com/token
  users:
  - username: reporting
    client_secret: ${env:REPORTING_SECRET}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, is := range issues {
		fmt.Println(is.Line, is.Field)
	}
	// Output:
	// 3 preset[0].url
	// 5 preset[0].users[0].client_id
}

// A preset that does not load is an *Error with code invalid_preset that
// lists every issue.
func ExampleNew_invalidPreset() {
	_, err := host.New(context.Background(), []byte("preset: []\n"))
	var he *host.Error
	if errors.As(err, &he) && he.Code == host.CodeInvalidPreset {
		fmt.Println(len(he.Issues), "issue:", he.Issues[0].Field)
	}
	// Output: 1 issue: preset
}

// A program that forwards discovery requests for someone else (a relay)
// asks the module which URLs those are and which metadata it accepts,
// instead of building well-known URLs itself.
func ExampleCheckMetadata() {
	ctx := context.Background()
	c, err := host.New(ctx, []byte(`preset:
- type: oauth_client_credentials
  issuer: https://as.example.com/tenant
  users:
  - {username: svc, client_id: svc, client_secret: x}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	issuers, _ := c.Discovery(ctx)
	fmt.Println(strings.Join(issuers[0].MetadataURLs, "\n"))

	body := []byte(`{"issuer":"https://as.example.com/tenant","token_endpoint":"https://as.example.com/tenant/token"}`)
	md, err := host.CheckMetadata(ctx, issuers[0].Issuer, issuers[0].Insecure, 200, nil, body)
	fmt.Println(md.TokenEndpoint, err)

	other := []byte(`{"issuer":"https://evil.example.com","token_endpoint":"https://evil.example.com/token"}`)
	_, err = host.CheckMetadata(ctx, issuers[0].Issuer, issuers[0].Insecure, 200, nil, other)
	var he *host.Error
	fmt.Println(errors.As(err, &he) && he.Code == host.CodeIssuerMismatch)
	// Output:
	// https://as.example.com/.well-known/oauth-authorization-server/tenant
	// https://as.example.com/tenant/.well-known/openid-configuration
	// https://as.example.com/tenant/token <nil>
	// true
}
