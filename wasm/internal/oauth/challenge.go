package oauth

import "strings"

// InvalidToken reports whether a resource server's WWW-Authenticate value
// has a Bearer or DPoP challenge with error="invalid_token" (RFC 6750 §3,
// RFC 9449 §7.1): the token was revoked or expired early and a new one is
// needed. The value may hold several challenges (RFC 9110 §11.6.1), and
// quoted strings may hide commas, equals signs and escaped quotes, so it is
// tokenised rather than searched.
func InvalidToken(wwwAuthenticate string) bool {
	return hasError(wwwAuthenticate, "invalid_token", true)
}

// UseDPoPNonce reports whether a WWW-Authenticate value has a DPoP
// challenge with error="use_dpop_nonce" (RFC 9449 §9): the resource server
// wants a proof with the nonce of its DPoP-Nonce header.
func UseDPoPNonce(wwwAuthenticate string) bool {
	return hasError(wwwAuthenticate, "use_dpop_nonce", false)
}

// hasError reports whether a DPoP (or, with bearer, a Bearer) challenge in
// wwwAuthenticate has the error code.
func hasError(wwwAuthenticate, code string, bearer bool) bool {
	p := challenges{s: wwwAuthenticate}
	scheme := ""
	for {
		p.skip(" \t,")
		if p.i >= len(p.s) {
			return false
		}
		name := p.token()
		if name == "" {
			if p.s[p.i] == '"' {
				p.quoted() // stray quoted string: step over it whole
			} else {
				p.i++
			}
			continue
		}
		after := p.i
		p.skip(" \t")
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			// A name without '=' starts a new challenge.
			scheme = strings.ToLower(name)
			p.i = after
			p.token68()
			continue
		}
		p.i++
		p.skip(" \t")
		var value string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			value = p.quoted()
		} else {
			value = p.token()
		}
		if ((bearer && scheme == "bearer") || scheme == "dpop") &&
			strings.EqualFold(name, "error") && strings.EqualFold(value, code) {
			return true
		}
	}
}

// challenges is a cursor over a WWW-Authenticate value.
type challenges struct {
	s string
	i int
}

func (p *challenges) skip(set string) {
	for p.i < len(p.s) && strings.IndexByte(set, p.s[p.i]) >= 0 {
		p.i++
	}
}

// token reads an RFC 9110 token.
func (p *challenges) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string at p.i and returns it unescaped. An
// unterminated one runs to the end.
func (p *challenges) quoted() string {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case '"':
			p.i++
			return b.String()
		case '\\':
			if p.i+1 < len(p.s) {
				p.i++
				b.WriteByte(p.s[p.i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// token68 steps over the token68 credentials a scheme may carry (e.g.
// "Negotiate abc=="), so they are not read as a parameter or a scheme. It
// leaves p.i alone if what follows is not one.
func (p *challenges) token68() {
	start := p.i
	p.skip(" ")
	if p.i == start {
		return // token68 needs a space after the scheme
	}
	t := p.i
	for p.i < len(p.s) && isToken68(p.s[p.i]) {
		p.i++
	}
	if p.i == t {
		p.i = start
		return
	}
	p.skip("=")
	p.skip(" \t")
	if p.i < len(p.s) && p.s[p.i] != ',' {
		p.i = start
	}
}

func isTchar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68(c byte) bool {
	return isAlnum(c) || strings.IndexByte("-._~+/", c) >= 0
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
