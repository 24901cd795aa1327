package engine

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// CodeCredentialFile: a file that holds a credential (client_assertion_file,
// or a certificate given as a path) could not be read or used, so nothing
// was sent. Field names the preset key; the message names the path and what
// is wrong, never the file's content.
const CodeCredentialFile = "credential_file"

// FileRead asks the host for a file's content: a credential the platform
// keeps on disk and replaces while the program runs, read again for every
// token request. The module itself opens no file.
type FileRead struct {
	Path  string `json:"path"`
	Field string `json:"field"` // the preset key that names it
}

// FileReply is the host's answer to a FileRead.
type FileReply struct {
	Content string `json:"content"`
}

// maxCredentialFile bounds what is taken from a file: a JWT or a
// certificate chain is a few kilobytes.
const maxCredentialFile = 64 << 10

// credentialFile is the file acct's next token request needs read first,
// if any: its client_assertion_file, or its certificate when that is a
// path. A copy already holding what the file gave needs none.
func credentialFile(acct *preset.Account) *FileRead {
	switch {
	case acct.AssertionFile != "" && acct.FileAssertion == "":
		return &FileRead{Path: acct.AssertionFile, Field: acct.AssertionField}
	case acct.CertificateFile != "" && acct.Certificate == nil:
		return &FileRead{Path: acct.CertificateFile, Field: acct.CertificateField}
	}
	return nil
}

// readCredential asks the host for the file, checks what it holds, and
// continues with a copy of acct carrying it.
func (e *Engine) readCredential(acct *preset.Account, f *FileRead, next func(*preset.Account) Step) Step {
	return e.wait(Step{File: f}, func(in Input) Step {
		if in.Failure != nil || in.File == nil {
			why := "the host read no file"
			if in.Failure != nil {
				why = clean(in.Failure.Message)
			}
			return fail(fileError(acct, f, "could not be read: "+why))
		}
		content := strings.TrimSpace(in.File.Content)
		a := *acct
		if f.Path == acct.AssertionFile {
			if msg := checkAssertion(content, e.now()); msg != "" {
				return fail(fileError(acct, f, msg))
			}
			a.FileAssertion = content
			return next(&a)
		}
		c, err := preset.CheckCertificate([]byte(content), acct.Key, e.now())
		if err != nil {
			return fail(fileError(acct, f, "holds a certificate that "+err.Error()))
		}
		a.Certificate = c
		return next(&a)
	})
}

// checkAssertion checks what a client_assertion_file holds before it is
// sent: one JWT, not expired. The signature is the server's to check.
func checkAssertion(s string, now time.Time) string {
	switch {
	case s == "":
		return "is empty; the platform has not written the workload's token yet, or the path is wrong"
	case len(s) > maxCredentialFile:
		return "is larger than 64 KiB, which no client assertion is; check the path"
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return "does not hold a JWT (three base64url parts separated by dots); check the path"
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "does not hold a JWT: its payload is not base64url; check the path"
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "does not hold a JWT: its payload is not a JSON object; check the path"
	}
	if claims.Exp != nil {
		exp, err := claims.Exp.Float64()
		if err == nil && now.After(time.Unix(int64(exp), 0)) {
			return "holds a JWT that expired at " + time.Unix(int64(exp), 0).UTC().Format(time.RFC3339) + "; the platform should have replaced it (is its token projection or refresh working?)"
		}
	}
	return ""
}

func fileError(a *preset.Account, f *FileRead, msg string) *Error {
	return &Error{Code: CodeCredentialFile, User: a.Username, Field: f.Field,
		Message: "the file " + quote(f.Path) + " named by " + f.Field + " " + msg + "; nothing was sent"}
}

// clean keeps a host's failure message short and on one line.
func clean(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
