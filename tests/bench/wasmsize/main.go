// Command wasmsize splits the code of a Go wasm module by where it comes
// from. It reads the function names of the module's "name" section (so the
// module must be built without -s), adds up the body size of every function
// of the code section by the package the function belongs to, and prints one
// "size_code_<group>_bytes N bytes" line per group, then the sizes of the
// code and data sections. Unlike building reactors of one dependency each,
// the groups add up: together they are the code section.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/cctoken/cctoken/internal/wasmbin"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize MODULE.wasm")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err == nil {
		err = report(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
}

// group names the part of the program a function belongs to. The Go linker
// writes wasm function names with the package path's '/' (and '-', '.'
// after the domain) turned into '_', e.g.
// github.com_goccy_go_json_internal_encoder.__Compiler_.sliceCode; names
// are normalised to that form first.
func group(name string) string {
	if strings.HasPrefix(name, "type:") || strings.HasPrefix(name, "go:") || !strings.Contains(name, ".") {
		return "compiler_generated"
	}
	n := strings.NewReplacer("/", "_", "-", "_").Replace(name)
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(n, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("github.com_cctoken_cctoken_"):
		return "cctoken"
	case has("github.com_goccy_go_json"):
		return "go_json"
	case has("github.com_goccy_go_yaml"):
		return "go_yaml"
	case has("encoding_json."):
		return "encoding_json"
	case has("runtime.", "runtime_", "internal_runtime_"):
		return "runtime"
	case has("crypto.", "crypto_"):
		return "std_crypto"
	}
	// Any other third-party path starts with a domain, whose dot survives:
	// golang.org_x_net.Foo, gopkg.in_yaml.v3.Bar.
	if head, rest, ok := strings.Cut(n, "."); ok && !strings.Contains(head, "_") {
		for _, tld := range []string{"com_", "org_", "net_", "io_", "in_", "dev_"} {
			if strings.HasPrefix(rest, tld) {
				return "other"
			}
		}
	}
	return "std_other"
}

func report(b []byte) error {
	sections, err := wasmbin.Sections(b)
	if err != nil {
		return err
	}
	var imported uint32
	var bodies []int
	names := map[uint32]string{}
	var codeSection, dataSection int
	for _, s := range sections {
		sec := &wasmbin.Reader{B: s.Body}
		switch s.ID {
		case 2: // imports: count the imported functions, which come first in the index space
			for n := sec.U32(); n > 0 && sec.Err == nil; n-- {
				sec.Bytes(sec.U32())
				sec.Bytes(sec.U32())
				switch sec.Byte() {
				case 0:
					imported++
					sec.U32()
				case 1:
					sec.Byte()
					if sec.Byte()&1 != 0 {
						sec.U32()
					}
					sec.U32()
				case 2:
					if sec.Byte()&1 != 0 {
						sec.U32()
					}
					sec.U32()
				case 3:
					sec.Byte()
					sec.Byte()
				default:
					sec.Fail(errors.New("an import of an unknown kind"))
				}
			}
		case 10:
			codeSection = len(s.Body)
			for n := sec.U32(); n > 0 && sec.Err == nil; n-- {
				size := sec.U32()
				sec.Bytes(size)
				bodies = append(bodies, int(size))
			}
		case 11:
			dataSection = len(s.Body)
		case 0:
			if string(sec.Bytes(sec.U32())) != "name" {
				continue
			}
			for len(sec.B) > 0 && sec.Err == nil {
				sub := sec.Byte()
				body := &wasmbin.Reader{B: sec.Bytes(sec.U32())}
				if sub != 1 {
					continue
				}
				for n := body.U32(); n > 0 && body.Err == nil; n-- {
					idx := body.U32()
					names[idx] = string(body.Bytes(body.U32()))
				}
				if body.Err != nil {
					return body.Err
				}
			}
		}
		if sec.Err != nil {
			return fmt.Errorf("section %d: %w", s.ID, sec.Err)
		}
	}
	if len(names) == 0 {
		return errors.New("the module has no function names; build it without -s")
	}
	sizes := map[string]int{}
	for i, n := range bodies {
		name, ok := names[imported+uint32(i)]
		g := "unnamed"
		if ok {
			g = group(name)
		}
		sizes[g] += n
	}
	groups := make([]string, 0, len(sizes))
	for g := range sizes {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return sizes[groups[i]] > sizes[groups[j]] })
	for _, g := range groups {
		fmt.Printf("size_code_%s_bytes %d bytes\n", g, sizes[g])
	}
	fmt.Printf("size_code_section_bytes %d bytes\n", codeSection)
	fmt.Printf("size_data_section_bytes %d bytes\n", dataSection)
	return nil
}
