// Package xoauth2 adapts a cctoken client to golang.org/x/oauth2, for code
// that takes an oauth2.TokenSource. It lives apart from package host so
// programs that do not use x/oauth2 do not depend on it.
package xoauth2

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/oauth2"

	"github.com/cctoken/cctoken/host"
)

// TokenSource returns an oauth2.TokenSource for user. Caching and refresh
// stay with the cctoken client; wrapping it in oauth2.ReuseTokenSource adds
// nothing.
//
// The source only hands out tokens: what is sent where is x/oauth2's. Its
// oauth2.Transport (oauth2.NewClient) sets the Authorization header on every
// request it sends, redirect hops to another origin included, and knows
// none of the user's headers, cookies or the module's retry rules. To make
// requests, prefer host.Client's HTTPClient or Transport, which send the
// token only to the origin the caller addressed (docs/requests.md).
func TokenSource(ctx context.Context, c *host.Client, user string, opts ...host.TokenOption) oauth2.TokenSource {
	return &source{ctx: ctx, c: c, user: user, opts: opts}
}

type source struct {
	ctx  context.Context
	c    *host.Client
	user string
	opts []host.TokenOption
}

func (s *source) Token() (*oauth2.Token, error) {
	t, err := s.c.Token(s.ctx, s.user, s.opts...)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(t.TokenType, "DPoP") {
		// oauth2.Transport would send it as "DPoP <token>" without the
		// proof every request needs, and every request would fail.
		return nil, errDPoP
	}
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}, nil
}

var errDPoP = errors.New("cctoken: this user's token is DPoP-bound (dpop: true) and needs a new DPoP proof for every request, which oauth2.Transport cannot add; use the cctoken client's Transport or Sign for this user")
