package redisstore

import "net/url"

// RedactForTest redacts msg with the password forms of rawURL.
func RedactForTest(rawURL, msg string) []string {
	u, _ := url.Parse(rawURL)
	return []string{redact(msg, passwordForms(rawURL, u))}
}
