package host

import (
	"strings"
	"testing"
)

// An answer member the host does not declare is drift between host/abi.go
// and the module's types: it is refused, naming the member, never dropped.
// Both ways: go-json's Unmarshal with the Decoder's flag, and the Decoder.
func TestDecodeAnswerRefusesUnknownMembers(t *testing.T) {
	if strictFlags == nil {
		t.Fatal("go-json's Unmarshal does not take the Decoder's DisallowUnknownFields flag: every answer goes through a Decoder")
	}
	for _, fast := range []bool{true, false} {
		saved := strictFlags
		if !fast {
			strictFlags = nil
		}
		decodeAnswerCases(t)
		strictFlags = saved
	}
}

func decodeAnswerCases(t *testing.T) {
	t.Helper()
	for _, tc := range []struct {
		in   string
		into any
		bad  string // "" when the answer must decode
	}{
		{`{"result":{"dropped":1}}`, &answer{}, ""},
		{`{"result":{"dropped":1},"trace":"x"}`, &answer{}, `"trace"`},
		{`{"task":3,"http":{"method":"GET","url":"https://x","retries":2}}`, &answer{}, `"retries"`},
		{`{"user":"u","token_type":"DPoP","use_until":1,"headers":{}}`, &signResult{}, ""},
		{`{"user":"u","token_type":"DPoP","use_until":1,"headers":{},"nonce":"n"}`, &signResult{}, `"nonce"`},
		{`{"invalidate":true,"use_dpop_nonce":true,"attempt":{}}`, &challengeResult{}, `"attempt"`},
		{`{"error":{"code":"x","message":"m","hint":"h"}}`, &answer{}, `"hint"`},
		{`{"dropped":1} {}`, &invalidateResult{}, "after"},
		{`{"dropped":1`, &invalidateResult{}, "ABI types"},
	} {
		err := decodeAnswer([]byte(tc.in), tc.into)
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%s: error %v, want one naming %s", tc.in, err, tc.bad)
		}
	}
}
