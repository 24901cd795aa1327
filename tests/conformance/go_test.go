package conformance

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
)

// TestGo runs every scenario on the Go host: host.New, Client.Token,
// Client.Invalidate, and API requests through Client.Transport in an
// http.Client that does not follow redirects itself (as POLICY.md asks of
// Client.HTTPClient and `cctoken request`: the Transport decides which
// redirects are followed).
func TestGo(t *testing.T) {
	ctx := context.Background()
	noEnv := host.WithEnv(func(string) (string, bool) { return "", false })
	runAll(t, "go", func(t *testing.T, s *Scenario) []Outcome {
		out := make([]Outcome, 0, len(s.Steps))
		c, err := host.New(ctx, s.Preset, noEnv, host.WithTimeout(s.timeout()))
		if err != nil {
			for range s.Steps {
				out = append(out, failed(err))
			}
			return out
		}
		defer c.Close()
		hc := &http.Client{
			Transport:     c.Transport(s.User, nil),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		for _, st := range s.Steps {
			switch st.Do {
			case "token":
				tok, err := c.Token(ctx, s.User)
				if err != nil {
					out = append(out, failed(err))
					continue
				}
				out = append(out, Outcome{AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpirySource: tok.ExpirySource})
			case "request":
				out = append(out, request(ctx, hc, st))
			case "invalidate":
				if err := c.Invalidate(ctx, s.User); err != nil {
					out = append(out, failed(err))
					continue
				}
				out = append(out, Outcome{})
			case "wait":
				time.Sleep(time.Duration(st.MS) * time.Millisecond)
				out = append(out, Outcome{})
			default:
				t.Fatalf("unknown step %q", st.Do)
			}
		}
		return out
	})
}

func request(ctx context.Context, hc *http.Client, st Step) Outcome {
	method := st.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if st.Body != "" {
		body = strings.NewReader(st.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, st.URL, body)
	if err != nil {
		return failed(err)
	}
	for k, v := range st.Headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return failed(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return Outcome{Status: resp.StatusCode}
}

// failed is the outcome of an error: the module's code when it is one.
func failed(err error) Outcome {
	var he *host.Error
	if errors.As(err, &he) {
		return Outcome{Error: he.Code, Message: he.Message}
	}
	return Outcome{Error: "exception", Message: err.Error()}
}
