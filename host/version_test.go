package host

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cctoken/cctoken/internal/version"
)

// TestModuleVersion checks that the embedded module was built from this
// release: a version bump without ./build.sh leaves a module that answers
// the old one.
func TestModuleVersion(t *testing.T) {
	inst, err := instantiate(context.Background(), testCache)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close(context.Background())
	a, err := inst.do(context.Background(), call{Op: "version"})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(a.Result, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != version.Version {
		t.Errorf("the embedded module says version %q, internal/version %q: run ./build.sh", v.Version, version.Version)
	}
}
