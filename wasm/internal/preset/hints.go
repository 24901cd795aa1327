package preset

import (
	"net/url"
	"strings"
)

// Hints are not errors: a preset with hints loads and works, but a
// provider recognised from its token URL is known to refuse what it asks
// for. Lint reports them beside the issues; they never fail a load.

// LintHints lists the hints of a document: providers recognised from the
// token URL whose documented rules the preset breaks. A document that does
// not parse has none.
func LintHints(text []byte, opts ...Option) Errors {
	l := newLoader(opts)
	l.lint, l.collectHints = true, true
	l.run(text)
	return l.hints
}

// providerHints checks one user against the rules of the provider its
// token URL names. scopes and user are where to point the hint.
func (l *loader) providerHints(a *Account, scopesField field, hasScopes bool, userNode field) {
	if !l.collectHints || a.TokenURL == "" {
		return
	}
	u, err := url.Parse(a.TokenURL)
	if err != nil {
		return
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case isEntra(host) && strings.HasSuffix(u.Path, "/oauth2/v2.0/token"):
		for _, s := range a.Scopes {
			if !strings.HasSuffix(s, "/.default") {
				l.hint(scopesField, "Microsoft Entra ID's client credentials flow takes only scopes of the form RESOURCE/.default (e.g. https://graph.microsoft.com/.default); the app's permissions come from its registration, not from the request. Replace the scope list with the resource's /.default scope.")
				break
			}
		}
		if !hasScopes {
			l.hint(userNode, "Microsoft Entra ID's v2 token endpoint needs a scope for client credentials: add scopes: [RESOURCE/.default], e.g. https://graph.microsoft.com/.default.")
		}
	case (strings.HasSuffix(host, ".auth0.com") || strings.HasSuffix(host, ".auth0app.com")) && u.Path == "/oauth/token" && a.Audience == "":
		l.hint(userNode, "Auth0 issues client credentials tokens for an API named by audience (its identifier, e.g. https://api.example.com); without it the request fails unless the tenant has a default audience. Add audience: to this user or its preset.")
	}
}

// isEntra recognises the Microsoft identity platform's login hosts
// (public, US government and China clouds).
func isEntra(host string) bool {
	switch host {
	case "login.microsoftonline.com", "login.microsoft.com", "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return true
	}
	return false
}

func (l *loader) hint(f field, msg string) {
	n := f.val
	if n == nil {
		n = f.key
	}
	line, col := position(n)
	l.hints = append(l.hints, Issue{Field: f.path, Line: line, Column: col, Message: msg})
}
