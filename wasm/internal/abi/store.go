package abi

import "github.com/cctoken/cctoken/wasm/internal/engine"

// resumeInput is what a resume call hands the waiting task. A store reply
// given together with a failure is ignored: the failure wins, so a host
// that reports a late or failed store answer is never misread as a hit.
func resumeInput(c *Call) engine.Input {
	in := engine.Input{Env: c.Env, Response: c.Response, Failure: c.Failure, Store: c.StoreReply, File: c.File}
	if c.Failure != nil {
		in.Store = nil
	}
	return in
}
