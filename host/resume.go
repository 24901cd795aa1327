package host

import (
	"context"

	json "github.com/goccy/go-json"
)

// resumeHTTP hands the module the answer to its http effect. A response's
// body goes after the call's JSON text, announced by body_bytes (ABI.md,
// "The body after the call"): it is neither escaped into the JSON here nor
// unescaped in the module, where every byte costs several times what it
// costs natively.
func (in *instance) resumeHTTP(ctx context.Context, task uint64, resp *httpResponse, failure *httpFailure) (*answer, error) {
	c := call{Op: "resume", Task: task, Response: resp, Failure: failure}
	if resp == nil || resp.BodyBytes == 0 {
		return in.do(ctx, c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return in.send(ctx, append(b, resp.raw...))
}
