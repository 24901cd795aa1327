//go:build wasip1

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// errNoSockets is what the command says when the runtime links the socket
// functions but they do not work. (A runtime that lacks them altogether
// refuses to instantiate the module, before any of its code runs; see
// docs/wasi.md for what that looks like.)
var errNoSockets = errors.New("cctoken: this WASI runtime has no socket extensions, so the command cannot reach the token endpoint; " +
	"run it under a runtime with WasmEdge's socket extensions: WasmEdge, or wasirun (github.com/stealthrocket/wasi-go)")

// network is the HTTP client of the command: net/http over the WasmEdge
// socket extensions, HTTP/1.1, and TLS verified against embedded roots.
type network struct {
	client *http.Client
	tls    *tls.Config
	extra  []*x509.Certificate // from --ca-file
	roots  sync.Once
}

func newNetwork(caFile string) (*network, error) {
	n := &network{tls: &tls.Config{MinVersion: tls.VersionTLS12}}
	if caFile != "" {
		certs, err := readCAFile(caFile)
		if err != nil {
			return nil, err
		}
		n.extra = certs
	}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		// The socket extensions' dialer, given to this transport rather
		// than patched into http.DefaultTransport.
		DialContext:     dial,
		TLSClientConfig: n.tls,
		// HTTP/1.1 only: a request is one write. SetNoDelay is a no-op on
		// wasip1 (dial sets TCP_NODELAY itself where the runtime knows
		// how), and with Nagle's algorithm on, HTTP/2's several small
		// frames wait for the server's delayed ACKs, ~45 ms a request.
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: 8,
	}
	n.client = &http.Client{
		Transport: tr,
		Timeout:   requestTimeout,
		// A token endpoint that redirects is misconfigured, and following
		// it would resend credentials to another URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return n, nil
}

// loadRoots sets the trusted roots before the first HTTPS request: the
// Mozilla set embedded from golang.org/x/crypto/x509roots/fallback (wasip1
// has no system pool) and the --ca-file certificates. Parsing the set takes
// about 25 ms in wasm, so plain-http runs and lint skip it.
func (n *network) loadRoots() {
	n.roots.Do(func() {
		pool := x509.NewCertPool()
		for c := range bundle.Roots() {
			cert, err := x509.ParseCertificate(c.Certificate)
			if err != nil {
				continue
			}
			if c.Constraint == nil {
				pool.AddCert(cert)
			} else {
				pool.AddCertWithConstraint(cert, c.Constraint)
			}
		}
		for _, c := range n.extra {
			pool.AddCert(c)
		}
		n.tls.RootCAs = pool
	})
}

func readCAFile(name string) ([]*x509.Certificate, error) {
	pemBytes, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cctoken: cannot read the CA file: %w%s", err, preopenHint(err))
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, pemBytes = pem.Decode(pemBytes)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("cctoken: the CA file %s holds a certificate that does not parse: %v", name, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("cctoken: the CA file %s holds no PEM certificate", name)
	}
	return certs, nil
}

// failureOf classifies a transport error as the Go host does, keeping only
// the innermost cause (never the URL), with a hint where the runtime setup
// is the likely cause.
func failureOf(ctx context.Context, err error) *httpmsg.Failure {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return &httpmsg.Failure{Kind: httpmsg.FailCanceled, Message: "the request was canceled"}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &httpmsg.Failure{Kind: httpmsg.FailTimeout, Message: "the token endpoint did not answer in time"}
	}
	inner := innermost(err)
	msg := inner.Error()
	if _, ok := inner.(syscall.Errno); ok && msg != "" {
		// wasip1 words errnos "Connection refused"; Linux, and so the
		// native command, "connection refused".
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	switch {
	case errors.As(err, &dns) && !dns.IsNotFound:
		msg += "; to resolve names the runtime must preopen /etc (wasirun --dir /etc) or name a DNS server (--dns-server)"
	case errors.As(err, &unknownCA):
		msg += "; trust its CA with --ca-file FILE"
	}
	return &httpmsg.Failure{Kind: httpmsg.FailNetwork, Message: msg}
}

func innermost(err error) error {
	var ue interface{ Unwrap() error }
	for errors.As(err, &ue) {
		inner := ue.Unwrap()
		if inner == nil {
			break
		}
		err = inner
	}
	return err
}

// noSockets reports a dial that failed because the runtime's socket
// functions are stubs.
func noSockets(err error) bool {
	var se *os.SyscallError
	return errors.As(err, &se) && se.Syscall == "socket" &&
		(errors.Is(se.Err, syscall.ENOSYS) || errors.Is(se.Err, syscall.ENOTSUP))
}
