package version

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// TestOneVersion checks that every place a release names its version says
// Version. The module's own answer is checked in package host (it needs the
// built module); the command prints Version itself.
func TestOneVersion(t *testing.T) {
	cases := []struct {
		file string
		get  func([]byte) string
	}{
		{"../../js/package.json", func(b []byte) string {
			var p struct{ Version string }
			json.Unmarshal(b, &p)
			return p.Version
		}},
		// The newest entry comes first: "## 0.1.0 (2026-12-07)".
		{"../../CHANGELOG.md", func(b []byte) string {
			m := regexp.MustCompile(`(?m)^## (\S+)`).FindSubmatch(b)
			if m == nil {
				return ""
			}
			return string(m[1])
		}},
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(Version) {
		t.Errorf("Version %q is not MAJOR.MINOR.PATCH", Version)
	}
	for _, tc := range cases {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.get(b); got != Version {
			t.Errorf("%s says version %q, internal/version %q: a release changes them together (docs/releasing.md)", tc.file, got, Version)
		}
	}
}
