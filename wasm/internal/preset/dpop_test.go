package preset

import (
	"strings"
	"testing"
)

func TestDPoPSetting(t *testing.T) {
	for _, tt := range []struct {
		name, presetExtra, userExtra string
		want                         bool
	}{
		{"default off", "", "", false},
		{"on the user", "", "dpop: true", true},
		{"inherited", "dpop: true", "", true},
		{"user overrides", "dpop: true", "dpop: false", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			accts, err := Load([]byte(one(tt.presetExtra, tt.userExtra)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if accts[0].DPoP != tt.want {
				t.Fatalf("DPoP = %v, want %v", accts[0].DPoP, tt.want)
			}
		})
	}
	_, err := Load([]byte(one("", `dpop: "yes"`)), nil)
	if err == nil {
		t.Fatal("dpop: \"yes\" loaded")
	}
	is := issues(t, err)
	if is[0].Field != "preset[0].users[0].dpop" || !strings.Contains(is[0].Message, "true or false") {
		t.Fatalf("issues = %v", is)
	}
}
