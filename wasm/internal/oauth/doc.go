// Package oauth builds client-credentials token requests (RFC 6749 §4.4)
// and parses token endpoint answers (§5.1, §5.2). It does no I/O: it turns a
// preset.Account into an httpmsg.Request and an httpmsg.Response into a Token
// or an *Error.
package oauth
