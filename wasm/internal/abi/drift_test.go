package abi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// The Go host (host/abi.go) declares the ABI's JSON shapes again, by hand:
// it talks to the module only through the ABI. These pairs are the same
// shape on both sides; each must have exactly the same JSON members, so a
// member added on one side only fails here. At run time the same drift
// fails too: the module refuses unknown call members (decodeCall) and the
// Go host refuses unknown answer members (host.decodeAnswer).
//
// When you add an op or an effect, add its call members to Call and to the
// host's call, and its answer's pair here.
type driftPair struct {
	host   string // the host type's name in package host
	module any    // a value of the module's type
}

var driftPairs = []driftPair{
	{"call", Call{}},
	{"answer", Answer{}},
	{"httpRequest", httpmsg.Request{}},
	{"tlsClient", httpmsg.TLSClient{}},
	{"httpResponse", httpmsg.Response{}},
	{"httpFailure", httpmsg.Failure{}},
	{"storeConfig", engine.StoreConfig{}},
	{"storeOp", engine.StoreOp{}},
	{"storeReply", engine.StoreReply{}},
	{"Error", engine.Error{}},
	{"Issue", preset.Issue{}},
	{"User", engine.UserInfo{}},
	{"loadResult", engine.UsersResult{}},
	{"lintResult", engine.LintResult{}},
	{"convertResult", engine.ConvertResult{}},
	{"tokenResult", engine.TokenResult{}},
	{"signResult", engine.SignResult{}},
	{"invalidateResult", engine.InvalidateResult{}},
	{"challengeResult", engine.ChallengeResult{}},
	{"answerResult", engine.AnswerResult{}},
	{"fileRead", engine.FileRead{}},
	{"fileReply", engine.FileReply{}},
	{"Issuer", engine.IssuerInfo{}},
	{"Metadata", engine.MetadataResult{}},
}

func TestHostTypesMatchModule(t *testing.T) {
	host := hostStructs(t, filepath.Join("..", "..", "..", "host"))
	// A named host struct with JSON tags mirrors an ABI shape: it must be
	// paired, so a new op's result type cannot be left out.
	for name := range host {
		if !slices.ContainsFunc(driftPairs, func(p driftPair) bool { return p.host == name }) {
			t.Errorf("host.%s has JSON members, so it mirrors a shape of the ABI: add it to driftPairs with the module's type", name)
		}
	}
	for _, p := range driftPairs {
		h, ok := host[p.host]
		if !ok {
			t.Errorf("package host has no struct type %s (the mirror of %T)", p.host, p.module)
			continue
		}
		m := moduleMembers(reflect.TypeOf(p.module))
		for _, name := range m {
			if !slices.Contains(h, name) {
				t.Errorf("%T has member %q that host.%s lacks: add it to host/abi.go (and to the JavaScript host if it uses it)", p.module, name, p.host)
			}
		}
		for _, name := range h {
			if !slices.Contains(m, name) {
				t.Errorf("host.%s has member %q that the module's %T lacks: the module would refuse or never send it", p.host, name, p.module)
			}
		}
	}
}

// moduleMembers lists the JSON member names encoding/json uses for t:
// exported fields, tag names, embedded structs without a tag flattened.
func moduleMembers(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, tagged := jsonName(f.Tag.Get("json"))
		if name == "-" {
			continue
		}
		if f.Anonymous && !tagged && f.Type.Kind() == reflect.Struct {
			out = append(out, moduleMembers(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if !tagged {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// jsonName is a json tag's member name and whether the tag names one.
func jsonName(tag string) (string, bool) {
	name, _, _ := strings.Cut(tag, ",")
	return name, name != ""
}

// hostStructs reads package host's source (not its tests) and lists, per
// named struct type with JSON tags, the JSON member names of its fields. Host types embed
// nothing, so no flattening is needed; an embedded field is reported.
func hostStructs(t *testing.T, dir string) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string][]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			var names []string
			embeds := false
			for _, fld := range st.Fields.List {
				tag := ""
				if fld.Tag != nil {
					tag, _ = strconv.Unquote(fld.Tag.Value)
				}
				name, tagged := jsonName(reflect.StructTag(tag).Get("json"))
				if name == "-" {
					continue
				}
				if len(fld.Names) == 0 {
					embeds = true
					continue
				}
				for _, id := range fld.Names {
					switch {
					case tagged:
						names = append(names, name)
					case id.IsExported():
						names = append(names, id.Name)
					}
				}
			}
			if tagged := slices.ContainsFunc(st.Fields.List, func(f *ast.Field) bool {
				return f.Tag != nil && strings.Contains(f.Tag.Value, "json:")
			}); tagged {
				if embeds {
					t.Errorf("host.%s embeds a field; the drift test does not follow embedded host types", ts.Name.Name)
				}
				out[ts.Name.Name] = names
			}
			return true
		})
	}
	return out
}

// TestUnknownCallMember: a call with a member the module does not know is
// refused, naming the member, whichever reader (by hand or encoding/json)
// meets it.
func TestUnknownCallMember(t *testing.T) {
	d := New()
	for _, tc := range []struct{ call, member string }{
		{`{"op":"token","user":"u","scope":"read"}`, "scope"},
		{`{"op":"token","user":null,"Scope":"read"}`, "Scope"}, // null: read by encoding/json
		{`{"op":"version","attempts":{"n":1}}`, "attempts"},
		{`{"op":"resume","task":1,"response":{"status":200,"headers":{}}}`, "headers"},
		{`{"op":"load","text":"x","store":{"lock_ms":1,"ttl":2}}`, "ttl"},
		{`{"op":"resume","task":1,"store_reply":{"found":true,"stale":true}}`, "stale"},
	} {
		out := call(t, d, tc.call)
		e, _ := out["error"].(map[string]any)
		if e == nil || e["code"] != "bad_request" || e["field"] != tc.member || !strings.Contains(e["message"].(string), strconv.Quote(tc.member)) {
			t.Errorf("%s: answer %v, want bad_request naming %q", tc.call, out, tc.member)
		}
	}
}
