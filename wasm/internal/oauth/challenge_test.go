package oauth

import (
	"testing"
	"time"
)

func TestInvalidToken(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{`Bearer realm="x", error="invalid_token"`, true},
		{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`, true},
		{`bearer error="invalid_token"`, true},
		{`Bearer error=invalid_token`, true},
		{`Bearer ERROR = "invalid_token"`, true},
		{`DPoP algs="ES256", error="invalid_token"`, true},
		{`Basic realm="a", Bearer realm="b", error="invalid_token"`, true},
		{`Negotiate abc==, Bearer error="invalid_token"`, true},
		{`Newauth realm="apps", type=1, title="Login to \"apps\"", Bearer error="invalid_token"`, true},
		{`Bearer realm="a, b", scope="x=y", error="invalid_token"`, true},
		{`Bearer realm="a\"b, error=\"invalid_token\"", error="insufficient_scope"`, false},
		{`Bearer realm="x, error=invalid_token"`, false},
		{`Bearer error="insufficient_scope", scope="read"`, false},
		{`Bearer error="invalid_request"`, false},
		{`Bearer realm="x"`, false},
		{`Basic realm="x", error="invalid_token"`, false},
		{`Bearer realm="x", Basic error="invalid_token"`, false},
		{`error="invalid_token"`, false},
		{`Bearer error_description="error=invalid_token"`, false},
		{`Bearer error="invalid_token`, true}, // unterminated, but unambiguous
		{``, false},
		{`,,,  ,`, false},
		{`Bearer "stray", error="invalid_token"`, true},
	}
	for _, tt := range tests {
		if got := InvalidToken(tt.header); got != tt.want {
			t.Errorf("InvalidToken(%s) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"-5", 0, true},
		{"99999999999999999999999", maxLifetime, true},
		{"Sun, 01 Jun 2025 12:01:00 GMT", time.Minute, true},
		{"Sunday, 01-Jun-25 12:01:00 GMT", time.Minute, true},
		{"Sun Jun  1 12:01:00 2025", time.Minute, true},
		{"Sun, 01 Jun 2025 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{"+5", 0, false},
		{"-", 0, false},
		{"Sun, 01 Jun 2025 12:01:00 PST", 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
