package preset

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// fuzzEnv holds the secrets FuzzLoad checks for in error text. Some have
// characters that fail validation, to reach the error paths.
var fuzzEnv = map[string]string{
	"SECRET": "ENVSECRET-plain-4b1d",
	"ID":     "ENVSECRET-id-77aa",
	"HDR":    "ENVSECRET-hdr\r\nX-Injected: 1",
	"CK":     "ENVSECRET-ck; x",
	"EMPTY":  "",
}

// FuzzLoad checks that Load, Lint and EnvNames never panic (the loader's
// last-resort recover shows up as internalError), that no env value leaks
// into an error, and that their answers agree.
func FuzzLoad(f *testing.F) {
	for _, tc := range issueCases {
		f.Add([]byte(tc.doc))
	}
	f.Add([]byte(one("audience: ${env:SECRET}", "headers: {X-A: '${env:HDR}'}\ncookies: {c: '${env:CK}'}\nclient_id: ${env:ID}")))
	f.Add([]byte(`{"presets": [{"type": "oauth_client_credentials", "url": "https://a.example/t", "users": [{"username": "u", "client_id": "${env:ID}", "client_secret": "${env:SECRET}"}]}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		accounts, err := Load(doc, fuzzEnv)
		lint := Lint(doc)
		names := EnvNames(doc)
		if err != nil {
			errs, ok := err.(Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("Load error %T %v", err, err)
			}
			if accounts != nil {
				t.Fatal("accounts returned with an error")
			}
			for _, is := range errs {
				if is.Message == internalError {
					t.Fatalf("loader panicked on %q", doc)
				}
			}
			text := err.Error() + lint.Error()
			for _, v := range fuzzEnv {
				// A document may spell a secret out itself; only leaks matter.
				if v != "" && strings.Contains(text, v[:12]) && !bytes.Contains(doc, []byte(v[:12])) {
					t.Fatalf("env value leaked into error:\n%s", text)
				}
			}
		} else if lint != nil {
			t.Fatalf("Load succeeded but Lint found %v", lint)
		}
		if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Fatalf("EnvNames not sorted and unique: %v", names)
		}
		seen := map[string]bool{}
		for _, a := range accounts {
			if seen[a.Username] || a.Username == "" || a.ClientSecret == "" {
				t.Fatalf("bad account %+v", a)
			}
			seen[a.Username] = true
		}
	})
}
