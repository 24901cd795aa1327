package preset

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite preset.schema.json from the types in format.go")

// TestSchema fails when preset.schema.json is stale; run
// `go test ./wasm/internal/preset -run TestSchema -update` to regenerate it.
func TestSchema(t *testing.T) {
	got := generateSchema()
	if *update {
		if err := os.WriteFile("preset.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	file, err := os.ReadFile("preset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, got) {
		t.Fatal("preset.schema.json is stale; run: go test ./wasm/internal/preset -run TestSchema -update")
	}
	if !bytes.Equal(Schema(), got) {
		t.Fatal("Schema() differs from the generated schema")
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatal(err)
	}
	if v["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("$schema = %v", v["$schema"])
	}
}

// TestSchemaDescriptions checks every property has a description.
func TestSchemaDescriptions(t *testing.T) {
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name, p := range props {
					if d, _ := p.(map[string]any)["description"].(string); d == "" {
						t.Errorf("%s.%s has no description", path, name)
					}
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	var v any
	if err := json.Unmarshal(Schema(), &v); err != nil {
		t.Fatal(err)
	}
	walk("#", v)
}

// TestSpecMatchesLoader keeps format.go and the loader's key lists in step.
func TestSpecMatchesLoader(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		keys []string
	}{
		{reflect.TypeFor[presetSpec](), presetKeys},
		{reflect.TypeFor[userSpec](), userKeys},
		{reflect.TypeFor[settingSpec](), settingKeys},
	} {
		var names []string
		for _, f := range specFields(c.typ) {
			names = append(names, f.name)
		}
		if !slices.Equal(names, c.keys) {
			t.Errorf("%v keys %v, loader has %v", c.typ, names, c.keys)
		}
	}
}

// The generator. It writes JSON itself so that key order follows the Go
// types and nothing is HTML-escaped.

// obj is a JSON object that keeps its key order.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) get(k string) (any, bool) {
	for _, e := range o {
		if e.k == k {
			return e.v, true
		}
	}
	return nil, false
}

// defNames are the struct types that become $defs, with their descriptions.
var defNames = map[reflect.Type][2]string{
	reflect.TypeFor[listDoc]():      {"presetList", "Shape 1: a map with a `preset:` list of presets."},
	reflect.TypeFor[multiauthDoc](): {"multiauth", "Shape 2: a py-multiauth configuration; cctoken reads its `presets:` list and ignores the other top-level keys."},
	reflect.TypeFor[presetSpec]():   {"preset", "One preset of type oauth_client_credentials: a token endpoint and its users. Shape 3 is a single preset at the top level."},
	reflect.TypeFor[userSpec]():     {"user", "One service account. Settings left unset are inherited from the preset, then from cctoken's defaults."},
}

// defaults come from the Go constants, so the schema cannot drift from them.
var defaults = map[string]any{
	"auth_method":        ClientSecretBasic,
	"basic_encoding":     BasicEncodingForm,
	"assertion_audience": AudienceTokenEndpoint,
	"refresh_skew":       DefaultRefreshSkew.Seconds(),
	"default_ttl":        DefaultTTL.Seconds(),
	"refresh_ahead":      DefaultRefreshAhead,
}

var defaultText = map[string]string{
	"auth_method":        ClientSecretBasic,
	"basic_encoding":     BasicEncodingForm,
	"assertion_audience": AudienceTokenEndpoint,
	"refresh_skew":       shortDuration(DefaultRefreshSkew),
	"default_ttl":        shortDuration(DefaultTTL),
	"refresh_ahead":      strconv.FormatFloat(DefaultRefreshAhead, 'f', -1, 64),
}

func shortDuration(d time.Duration) string {
	s := d.String()
	s, _ = strings.CutSuffix(s, "m0s")
	if len(s) < len(d.String()) {
		s += "m"
	}
	return s
}

const durationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

func generateSchema() []byte {
	defs := obj{}
	for _, t := range []reflect.Type{reflect.TypeFor[listDoc](), reflect.TypeFor[multiauthDoc](), reflect.TypeFor[presetSpec](), reflect.TypeFor[userSpec]()} {
		defs = append(defs, kv{defNames[t][0], structSchema(t)})
	}
	root := obj{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"title", "cctoken preset document"},
		{"description", "OAuth 2.0 client-credentials presets for cctoken, in YAML or JSON. " +
			"Text values such as client_id may be written as numbers or booleans; they are read as written (0012 stays 0012). " +
			"Defaults: auth_method " + defaultText["auth_method"] + ", basic_encoding " + defaultText["basic_encoding"] + ", refresh_skew " + defaultText["refresh_skew"] +
			", default_ttl " + defaultText["default_ttl"] + ", refresh_ahead " + defaultText["refresh_ahead"] + "."},
		{"oneOf", []any{ref("presetList"), ref("multiauth"), ref("preset")}},
		{"$defs", defs},
	}
	var b bytes.Buffer
	writeJSON(&b, root, "")
	b.WriteByte('\n')
	return b.Bytes()
}

func ref(name string) obj { return obj{{"$ref", "#/$defs/" + name}} }

type specField struct {
	name     string
	optional bool
	typ      reflect.Type
	tag      reflect.StructTag
}

// specFields lists the keys of a spec struct, flattening embedded structs.
func specFields(t reflect.Type) []specField {
	var out []specField
	for f := range t.Fields() {
		if f.Anonymous {
			out = append(out, specFields(f.Type)...)
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			continue
		}
		out = append(out, specField{name, opts == "omitempty", f.Type, f.Tag})
	}
	return out
}

func structSchema(t reflect.Type) obj {
	s := obj{{"description", defNames[t][1]}, {"type", "object"}}
	props := obj{}
	var required []any
	for _, f := range specFields(t) {
		p := obj{{"description", describe(f)}}
		p = append(p, typeSchema(f.typ, f.tag)...)
		p = append(p, tagKeywords(f.tag)...)
		if d, ok := defaults[f.name]; ok {
			p = append(p, kv{"default", d})
		}
		props = append(props, kv{f.name, p})
		if !f.optional {
			required = append(required, f.name)
		}
	}
	s = append(s, kv{"properties", props})
	if len(required) > 0 {
		s = append(s, kv{"required", required})
	}
	open := false
	for f := range t.Fields() {
		open = open || f.Tag.Get("schema") == "open"
		if keys, ok := strings.CutPrefix(f.Tag.Get("schema"), "exactlyOne="); ok {
			var alts []any
			for k := range strings.SplitSeq(keys, "|") {
				alts = append(alts, obj{{"required", []any{k}}})
			}
			s = append(s, kv{"oneOf", alts})
		}
	}
	if !open {
		s = append(s, kv{"additionalProperties", false})
	}
	return s
}

func describe(f specField) string {
	d := f.tag.Get("desc")
	if text, ok := defaultText[f.name]; ok {
		d += " Default: " + text + "."
	}
	return d
}

// typeSchema maps a Go type of format.go to schema keywords.
func typeSchema(t reflect.Type, tag reflect.StructTag) obj {
	if _, ok := defNames[t]; ok {
		return ref(defNames[t][0])
	}
	switch t {
	case reflect.TypeFor[specScalar]():
		return obj{{"type", []any{"string", "number", "boolean"}}}
	case reflect.TypeFor[specValue]():
		return obj{{"type", []any{"string", "number", "boolean", "null"}}}
	case reflect.TypeFor[specScope]():
		return obj{{"type", "string"}, {"pattern", `^[\x21\x23-\x5B\x5D-\x7E]+$`}}
	case reflect.TypeFor[specURI]():
		return obj{{"type", "string"}, {"format", "uri"}, {"pattern", `^[A-Za-z][A-Za-z0-9+.-]*:[^#]*$`}}
	case reflect.TypeFor[specDuration]():
		num := obj{{"type", "number"}, {"minimum", 0}}
		if strings.Contains(tag.Get("schema"), "positive") {
			num = obj{{"type", "number"}, {"exclusiveMinimum", 0}}
		}
		return obj{{"oneOf", []any{obj{{"type", "string"}, {"pattern", durationPattern}}, num}}}
	}
	switch t.Kind() {
	case reflect.String:
		return obj{{"type", "string"}}
	case reflect.Bool:
		return obj{{"type", "boolean"}}
	case reflect.Float64:
		return obj{{"type", "number"}}
	case reflect.Slice:
		return obj{{"type", "array"}, {"items", typeSchema(t.Elem(), "")}}
	case reflect.Map:
		s := obj{{"type", "object"}}
		if t.Key() == reflect.TypeFor[specToken]() {
			s = append(s, kv{"propertyNames", obj{{"pattern", "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"}}})
		}
		return append(s, kv{"additionalProperties", typeSchema(t.Elem(), "")})
	}
	panic("schema: unsupported type " + t.String())
}

// tagKeywords turns `schema:"a=1;b=x|y"` into keywords; enum splits on '|'.
func tagKeywords(tag reflect.StructTag) obj {
	var out obj
	for part := range strings.SplitSeq(tag.Get("schema"), ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue // flags such as "positive" are read by typeSchema
		}
		switch {
		case k == "enum":
			var e []any
			for x := range strings.SplitSeq(v, "|") {
				e = append(e, x)
			}
			out = append(out, kv{k, e})
		case v == "true" || v == "false":
			out = append(out, kv{k, v == "true"})
		default:
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				out = append(out, kv{k, n})
			} else {
				out = append(out, kv{k, v})
			}
		}
	}
	return out
}

func writeJSON(b *bytes.Buffer, v any, indent string) {
	in := indent + "  "
	switch v := v.(type) {
	case obj:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, e := range v {
			b.WriteString(in)
			writeJSON(b, e.k, in)
			b.WriteString(": ")
			writeJSON(b, e.v, in)
			if i < len(v)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		multiline := slices.ContainsFunc(v, func(x any) bool { _, ok := x.(obj); return ok })
		b.WriteString("[")
		for i, x := range v {
			if i > 0 {
				b.WriteString(",")
				if !multiline {
					b.WriteString(" ")
				}
			}
			if multiline {
				b.WriteString("\n" + in)
			}
			writeJSON(b, x, in)
		}
		if multiline {
			b.WriteString("\n" + indent)
		}
		b.WriteString("]")
	case string:
		e := json.NewEncoder(b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			panic(err)
		}
		b.Truncate(b.Len() - 1) // Encode adds a newline
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
	default:
		panic(fmt.Sprintf("writeJSON: %T", v))
	}
}
