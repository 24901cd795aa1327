//go:build wasip1

package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

// driver runs engine operations to their end, performing the effects they
// stop at: it is this command's host, in the same module. The engine is not
// safe for concurrent use, so steps run under mu; the HTTP requests run
// outside it, so validate fetches several users' tokens at once.
type driver struct {
	mu  sync.Mutex
	eng *engine.Engine
	net *network
	log *slog.Logger
}

func newDriver(caFile string, log *slog.Logger) (*driver, error) {
	n, err := newNetwork(caFile)
	if err != nil {
		return nil, err
	}
	return &driver{eng: engine.New(nil), net: n, log: log}, nil
}

// run starts an operation with first and drives it to its result. The
// error is the operation's *engine.Error, or errNoSockets.
func (d *driver) run(ctx context.Context, first func(*engine.Engine) engine.Step) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := first(d.eng)
	for {
		switch {
		case s.HTTP != nil:
			d.mu.Unlock()
			resp, failure, fatal := d.net.perform(ctx, s.HTTP)
			d.mu.Lock()
			s = d.eng.Resume(s.Task, engine.Input{Response: resp, Failure: failure})
			if fatal != nil {
				return nil, fatal
			}
		case s.Env != nil:
			env := make(map[string]string, len(s.Env))
			for _, name := range s.Env {
				if v, ok := os.LookupEnv(name); ok {
					env[name] = v
				}
			}
			s = d.eng.Resume(s.Task, engine.Input{Env: env})
		case s.File != nil:
			// A credential file (client_assertion_file, a certificate path),
			// read afresh for every token request; it must be under a
			// preopened directory.
			b, err := readLimited(s.File.Path, 64<<10)
			if err != nil {
				s = d.eng.Resume(s.Task, engine.Input{Failure: &httpmsg.Failure{Kind: "file", Message: err.Error() + " (the runtime must preopen its directory, e.g. --dir)"}})
			} else {
				s = d.eng.Resume(s.Task, engine.Input{File: &engine.FileReply{Content: string(b)}})
			}
		case s.Error != nil:
			return nil, s.Error
		default:
			return s.Result, nil
		}
	}
}

// token gets user's token, logging as the native command's -v does.
func (d *driver) token(ctx context.Context, user string) (*engine.TokenResult, error) {
	res, err := d.run(ctx, func(e *engine.Engine) engine.Step { return e.Token(engine.TokenRequest{User: user}) })
	if err != nil {
		d.log.Warn("cctoken: token request failed", "user", user, "error", errorText(err))
		return nil, err
	}
	tok := res.(engine.TokenResult)
	d.log.Debug("cctoken: token fetched", "user", user, "expires_at", time.UnixMilli(tok.ExpiresAt), "expiry_source", tok.ExpirySource)
	return &tok, nil
}

// perform sends the engine's request and returns the response or the
// failure the engine should see, as the Go host's fetch bridge does: no
// redirects, a timeout, at most httpmsg.MaxBody bytes. fatal is set when
// the runtime cannot open sockets at all.
func (n *network) perform(ctx context.Context, r *httpmsg.Request) (resp *httpmsg.Response, failure *httpmsg.Failure, fatal error) {
	if r.TLSClient != nil {
		// Client certificates stay with the Go host for now: this command
		// would have to read them through WASI preopens.
		return nil, &httpmsg.Failure{Kind: httpmsg.FailUnsupported, Field: "tls_client_certificate",
			Message: "the standalone WASI command cannot present a client certificate (mTLS); use the Go host: the cctoken command or package host"}, nil
	}
	if strings.HasPrefix(r.URL, "https:") {
		n.loadRoots()
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, strings.NewReader(r.Body))
	if err != nil {
		return nil, &httpmsg.Failure{Kind: httpmsg.FailNetwork, Message: "the request could not be built"}, nil
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	res, err := n.client.Do(req)
	if err != nil {
		f := failureOf(ctx, err)
		if noSockets(err) {
			return nil, f, errNoSockets
		}
		return nil, f, nil
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, httpmsg.MaxBody+1))
	if err != nil {
		return nil, failureOf(ctx, err), nil
	}
	if len(body) > httpmsg.MaxBody {
		return nil, &httpmsg.Failure{Kind: httpmsg.FailTooLarge, Message: "the token endpoint's answer is larger than 1 MiB"}, nil
	}
	h := make(map[string]string, len(res.Header))
	for k, vs := range res.Header {
		h[k] = strings.Join(vs, ", ")
	}
	return &httpmsg.Response{Status: res.StatusCode, Header: h, Body: string(body)}, nil, nil
}

// preopenHint explains a file the runtime did not let the module see.
func preopenHint(err error) string {
	if errors.Is(err, syscall.EBADF) || errors.Is(err, syscall.ENOTCAPABLE) {
		return " (the file must be inside a directory the runtime preopens by its absolute path: wasirun --dir /abs/dir, wasmedge --dir /abs/dir:/abs/dir)"
	}
	return ""
}

// readLimited reads at most max+1 bytes of a file; the engine refuses a
// larger one. Errors name the path's problem, not its content.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			return nil, pe.Err
		}
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}
