package keboola

import (
	"fmt"
	"sort"
	"strings"
)

// Mode says how Preset.YAML writes the values that have an Env name.
type Mode int

const (
	// Literal writes every value itself: for loading in memory, never for
	// printing.
	Literal Mode = iota
	// EnvRefs writes ${env:NAME} references instead of the secrets: what
	// `cctoken convert` prints.
	EnvRefs
)

// The field paths package preset gives the one preset and user written.
const (
	presetPath = "preset[0]"
	userPath   = "preset[0].users[0]"
)

// YAML writes the preset as a preset document (shape 1: a `preset:` list).
// The output depends only on the preset and the mode.
func (p *Preset) YAML(m Mode) []byte { return p.emit(m, nil) }

// EnvNames lists, sorted, the variables YAML(EnvRefs) adds references to
// (those already written as ${env:NAME} in the configuration are not here).
func (p *Preset) EnvNames() []string {
	var names []string
	for _, v := range []Value{p.ClientID, p.ClientSecret} {
		if v.Env != "" {
			names = append(names, v.Env)
		}
	}
	sort.Strings(names)
	return names
}

// emit writes the document and, when origins is not nil, records where in
// the configuration each field it writes came from.
func (p *Preset) emit(m Mode, origins map[string]Value) []byte {
	var b strings.Builder
	at := func(path string, v Value) {
		if origins != nil {
			origins[path] = v
		}
	}
	val := func(v Value) string {
		if m == EnvRefs && v.Env != "" {
			return "${env:" + v.Env + "}"
		}
		return yamlString(v.S)
	}
	b.WriteString("# cctoken preset converted from a Keboola generic-extractor configuration.\n")
	if names := p.EnvNames(); len(names) > 0 {
		b.WriteString("# Set these environment variables to the values at these paths of the configuration:\n")
		for _, v := range []Value{p.ClientID, p.ClientSecret} {
			if v.Env != "" {
				fmt.Fprintf(&b, "#   %s  (%s)\n", v.Env, oneLine(v.Path))
			}
		}
	}
	b.WriteString("preset:\n")
	b.WriteString("  - type: oauth_client_credentials\n")
	fmt.Fprintf(&b, "    url: %s\n", yamlString(p.URL.S))
	at(presetPath+".url", p.URL)
	fmt.Fprintf(&b, "    auth_method: %s\n", p.AuthMethod)
	at(presetPath+".auth_method", p.auth)
	if p.AuthMethod == ClientSecretBasic {
		b.WriteString("    # Keboola's Basic Auth does not form-urlencode the client id and secret\n" +
			"    # before base64; cctoken does, as RFC 6749 §2.3.1 requires. They differ\n" +
			"    # only for ids and secrets with characters such as + & % : = or spaces.\n" +
			"    # For a server that accepts only Keboola's form, uncomment:\n" +
			"    # basic_encoding: raw\n")
	}
	b.WriteString("    users:\n")
	fmt.Fprintf(&b, "      - username: %s\n", yamlString(p.Username))
	fmt.Fprintf(&b, "        client_id: %s\n", val(p.ClientID))
	at(userPath+".client_id", p.ClientID)
	fmt.Fprintf(&b, "        client_secret: %s\n", val(p.ClientSecret))
	at(userPath+".client_secret", p.ClientSecret)
	if p.Scope != nil {
		if scopes := strings.Fields(p.Scope.S); len(scopes) > 0 {
			b.WriteString("        scopes:\n")
			for _, s := range scopes {
				fmt.Fprintf(&b, "          - %s\n", yamlString(s))
			}
			at(userPath+".scopes", *p.Scope)
		}
	}
	if p.Audience != nil {
		fmt.Fprintf(&b, "        audience: %s\n", val(*p.Audience))
		at(userPath+".audience", *p.Audience)
	}
	if p.Resource != nil {
		fmt.Fprintf(&b, "        resource:\n          - %s\n", yamlString(p.Resource.S))
		at(userPath+".resource", *p.Resource)
	}
	for _, m := range []struct {
		key   string
		from  Value
		pairs []Pair
	}{{"headers", p.headers, p.Headers}, {"params", p.params, p.Params}} {
		if len(m.pairs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "        %s:\n", m.key)
		at(userPath+"."+m.key, m.from)
		for _, e := range m.pairs {
			fmt.Fprintf(&b, "          %s: %s\n", yamlKey(e.Name), val(e.Value))
			at(join(userPath+"."+m.key, e.Name), e.Value)
		}
	}
	return []byte(b.String())
}

// oneLine keeps a path that quotes odd keys on one comment line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return '?'
		}
		return r
	}, s)
}

// yamlString writes s as a YAML scalar that reads back as exactly s:
// plain when that is unambiguous, double-quoted otherwise.
func yamlString(s string) string {
	if plainScalar(s) {
		return s
	}
	return quoted(s)
}

// yamlKey is yamlString for map keys, which are plain only when simpler
// still (no ':').
func yamlKey(s string) string {
	if plainScalar(s) && !strings.ContainsRune(s, ':') {
		return s
	}
	return quoted(s)
}

// plainScalar reports text that YAML reads back unchanged without quotes:
// it starts with a letter, holds only letters, digits and _ . / : @ + = -,
// does not end with ':', and is not a word YAML gives another meaning.
func plainScalar(s string) bool {
	if s == "" || !isLetter(s[0]) || s[len(s)-1] == ':' {
		return false
	}
	switch strings.ToLower(s) {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n":
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && strings.IndexByte("_./:@+=-", c) < 0 {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// quoted writes a YAML double-quoted scalar. Controls, the characters YAML
// may take as line breaks, and the byte-order mark are escaped; s must be
// valid UTF-8 (Read checks).
func quoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f || (0x80 <= r && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
