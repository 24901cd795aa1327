package host

import (
	"context"
	"strings"
)

type loadResult struct {
	Users []User   `json:"users"`
	Kept  []string `json:"kept"`
}

func (c *Client) loadCall(preset []byte) call {
	ld := call{Op: "load", Text: string(preset), Username: c.username}
	if c.store != nil {
		ld.Store = &storeConfig{LockMS: c.store.lock.Milliseconds(), Secret: c.store.secret}
	}
	return ld
}

// Reload replaces the client's preset with a new version of the document,
// for instance after a secret was rotated, without dropping what still
// holds: users whose settings did not change keep their tokens; users that
// changed (a new secret, scopes, endpoint, ...) drop theirs and fetch anew
// with the new settings; users no longer in the document are gone. A
// document that does not load is refused with an *Error (invalid_preset
// listing every issue, no secret in it) and the old one keeps serving; the
// refusal is logged once per distinct error.
//
// A token request already under way when Reload is called finishes with the
// settings it started with; its callers get that token, but if the reload
// changed the user it is not kept.
func (c *Client) Reload(ctx context.Context, preset []byte) error {
	if c.closed.Load() {
		return errClosed
	}
	c.reload.Lock()
	defer c.reload.Unlock()
	var res loadResult
	if err := c.run(ctx, c.loadCall(preset), &res); err != nil {
		if msg := err.Error(); msg != c.badLoad {
			c.badLoad = msg
			c.log.Warn("cctoken: the new preset was refused; the old one keeps serving", "error", msg)
		}
		return err
	}
	c.badLoad = ""
	kept := make(map[string]bool, len(res.Kept))
	for _, u := range res.Kept {
		kept[u] = true
	}
	old := *c.slots.Load()
	slots := make(map[string]*slot, len(res.Users))
	for _, u := range res.Users {
		if s := old[u.Username]; s != nil && kept[u.Username] {
			slots[u.Username] = s
		} else {
			slots[u.Username] = &slot{}
		}
	}
	c.memos.Range(func(k, _ any) bool {
		user, _, _ := strings.Cut(k.(string), "\x00")
		if !kept[user] {
			c.memos.Delete(k)
		}
		return true
	})
	c.users.Store(&res.Users)
	c.slots.Store(&slots)
	c.log.Info("cctoken: preset reloaded", "users", len(res.Users), "kept", len(res.Kept))
	return nil
}
