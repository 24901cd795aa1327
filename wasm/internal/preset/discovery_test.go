package preset

import (
	"reflect"
	"strings"
	"testing"
)

// withIssuer is one() with issuer: in place of url:.
func withIssuer(issuer, presetExtra, userExtra string) string {
	return strings.Replace(one(presetExtra, userExtra), "url: https://auth.example.com/token", "issuer: "+issuer, 1)
}

func TestIssuerLoads(t *testing.T) {
	got, err := Load([]byte(withIssuer("https://auth.example.com/tenant", "", "")), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []Account{base("alice", func(a *Account) { a.TokenURL, a.Issuer, a.AuthMethod = "", "https://auth.example.com/tenant", "" })}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// An auth_method set on the preset or the user is kept.
	got, err = Load([]byte(withIssuer("http://127.0.0.1:9000", "auth_method: client_secret_post", "")), nil)
	if err != nil || got[0].AuthMethod != ClientSecretPost || got[0].Issuer != "http://127.0.0.1:9000" {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := Load([]byte(withIssuer("http://auth.example.com", "insecure: true", "")), nil); err != nil {
		t.Errorf("insecure http issuer: %v", err)
	}
}

func TestURLXorIssuer(t *testing.T) {
	for _, tc := range []struct {
		name, doc, field, want string
	}{
		{"both", one("issuer: https://auth.example.com", ""), "preset[0].issuer", "url and issuer are both set"},
		{"neither", strings.Replace(one("", ""), "    url: https://auth.example.com/token\n", "", 1), "preset[0].url", "or the authorization server's issuer"},
		{"issuer on a user", one("", "issuer: https://auth.example.com"), "preset[0].users[0].issuer", "is set on the preset"},
		{"issuer with a query", withIssuer("https://auth.example.com?x=1", "", ""), "preset[0].issuer", "?query"},
		{"issuer with a fragment", withIssuer("'https://auth.example.com#x'", "", ""), "preset[0].issuer", "#fragment"},
		{"plain http issuer", withIssuer("http://auth.example.com", "", ""), "preset[0].issuer", "plain http"},
		{"issuer not a URL", withIssuer("auth.example.com", "", ""), "preset[0].issuer", "issuer must start with https://"},
		{"misspelt issuer", strings.Replace(one("", ""), "url: https://auth.example.com/token", "issuer_url: https://auth.example.com", 1), "preset[0].issuer_url", "did you mean `issuer`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := Lint([]byte(tc.doc))
			if len(errs) != 1 || errs[0].Field != tc.field || !strings.Contains(errs[0].Message, tc.want) {
				t.Fatalf("issues = %v, want one on %s containing %q", errs, tc.field, tc.want)
			}
			if tc.name == "both" && !strings.Contains(errs[0].Message, "Remove one") {
				t.Errorf("the message should say how to fix it: %s", errs[0].Message)
			}
		})
	}
}
