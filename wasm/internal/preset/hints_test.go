package preset

import (
	"strings"
	"testing"
)

func TestLintHints(t *testing.T) {
	doc := func(url, user string) string {
		return "preset:\n  - type: oauth_client_credentials\n    url: " + url + "\n    users:\n      - username: svc\n        client_id: app\n        client_secret: ${env:S}\n" + indent(user, "        ")
	}
	const entra = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
	for _, c := range []struct {
		name, url, user, want string
	}{
		{"Entra with a plain scope", entra, "scopes: [User.Read]", "users[0].scopes: Microsoft Entra ID's client credentials flow takes only scopes of the form RESOURCE/.default"},
		{"Entra without scopes", entra, "", "users[0]: Microsoft Entra ID's v2 token endpoint needs a scope"},
		{"Entra with .default", entra, "scopes: [https://graph.microsoft.com/.default]", ""},
		{"Entra v1 endpoint", "https://login.microsoftonline.com/t/oauth2/token", "scopes: [x]", ""},
		{"Auth0 without audience", "https://acme.eu.auth0.com/oauth/token", "", "Auth0 issues client credentials tokens for an API named by audience"},
		{"Auth0 with audience", "https://acme.eu.auth0.com/oauth/token", "audience: https://api.acme.example", ""},
		{"another server", "https://auth.example.com/token", "scopes: [read]", ""},
	} {
		text := []byte(doc(c.url, c.user))
		if issues := Lint(text); issues != nil {
			t.Fatalf("%s: hints must not be issues: %v", c.name, issues)
		}
		hints := LintHints(text)
		if c.want == "" {
			if len(hints) != 0 {
				t.Errorf("%s: unexpected hints %v", c.name, hints)
			}
			continue
		}
		if len(hints) != 1 || !strings.Contains(hints[0].String(), c.want) || hints[0].Line == 0 {
			t.Errorf("%s: hints %v, want one with %q", c.name, hints, c.want)
		}
	}
}
