// Command thirdparty writes NOTICE and THIRD_PARTY.md: the third-party code
// that each cctoken artifact carries, with its license. build.sh runs it, so
// the files follow the module graph and tests/node_modules; `./build.sh
// --check` fails when the committed ones are stale.
//
//	go run ./internal/thirdparty [-dir DIR]
//
// It runs from the repository root. A bundled component without an entry in
// components is an error: its license has to be looked at before it ships.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
)

// mainModule is cctoken's own module path: not third-party.
const mainModule = "github.com/cctoken/cctoken"

// shimDir is where build.sh bundles the WASI shim from.
const shimDir = "tests/node_modules/@bjorn3/browser_wasi_shim"

// component is what a reader needs to know about one bundled dependency.
type component struct {
	license string // SPDX expression
	role    string // what cctoken uses it for
	extra   string // anything else its license terms need said
}

// components lists every dependency an artifact may carry. The key is a Go
// module path, "std" for Go's standard library, or an npm package name.
var components = map[string]component{
	"std":                      {license: "BSD-3-Clause", role: "the Go runtime and standard library, compiled into every Go-built artifact"},
	"github.com/goccy/go-yaml": {license: "MIT", role: "the YAML parser that reads presets"},
	"github.com/stealthrocket/net": {license: "Apache-2.0",
		role: "sockets for wasip1 over WasmEdge's socket extensions (the WASI command's own HTTP)"},
	"golang.org/x/crypto/x509roots/fallback": {license: "BSD-3-Clause",
		role:  "the trusted root certificates of the WASI command, which has no system pool",
		extra: "The certificates themselves are Mozilla's NSS trust store (certdata.txt, published by Mozilla under MPL-2.0), as this package embeds them."},
	"github.com/tetratelabs/wazero": {license: "Apache-2.0", role: "the WebAssembly runtime that runs the module"},
	"github.com/redis/go-redis/v9":  {license: "BSD-2-Clause", role: "the Redis client behind --store"},
	"github.com/cespare/xxhash/v2":  {license: "MIT", role: "a hash function go-redis uses"},
	"go.uber.org/atomic":            {license: "MIT", role: "atomic types go-redis uses"},
	"github.com/goccy/go-json":      {license: "MIT", role: "the Go host's JSON codec for the module's calls and answers"},
	"github.com/fsnotify/fsnotify":  {license: "BSD-3-Clause", role: "file change notifications for keep --watch"},
	// The Prometheus client of --metrics (cctoken proxy and keep).
	"github.com/prometheus/client_golang": {license: "Apache-2.0", role: "Prometheus metrics for --metrics (proxy, keep)"},
	"github.com/prometheus/client_model":  {license: "Apache-2.0", role: "the metric data model client_golang uses"},
	"github.com/prometheus/common":        {license: "Apache-2.0", role: "the exposition formats client_golang uses"},
	"github.com/prometheus/procfs":        {license: "Apache-2.0", role: "process figures client_golang reads on Linux"},
	"github.com/beorn7/perks":             {license: "MIT", role: "quantile estimation client_golang uses"},
	"google.golang.org/protobuf":          {license: "BSD-3-Clause", role: "the protocol buffers runtime of the metric data model"},
	"github.com/munnerz/goautoneg":        {license: "BSD-3-Clause", role: "content negotiation of the metrics endpoint"},
	"golang.org/x/sys":                    {license: "BSD-3-Clause", role: "system calls (wazero, fsnotify)"},
	"@bjorn3/browser_wasi_shim":           {license: "MIT OR Apache-2.0", role: "WASI for browsers and workers (the bundle's one dependency)"},
}

// artifact is one thing cctoken ships and what it is built from.
type artifact struct {
	name, what string
	pkg        string   // Go main package, "" for none
	goos       []string // the systems it is listed for (modules can differ)
	goarch     string
	npm        []string // npm packages bundled in
	includes   string   // artifacts it embeds, by name
}

var artifacts = []artifact{
	{name: "`host/embed/cctoken.wasm`", what: "the module; package host and the cctoken command embed it",
		pkg: "./wasm/module", goos: []string{"wasip1"}, goarch: "wasm"},
	{name: "`js/dist/cctoken.bundle.js`", what: "the browser and worker bundle of js/cctoken.js; `cctoken explore` serves it",
		npm: []string{"@bjorn3/browser_wasi_shim"}},
	{name: "`build/cctoken-wasi.wasm`", what: "the WASI command (wasm/command)",
		pkg: "./wasm/command", goos: []string{"wasip1"}, goarch: "wasm"},
	{name: "`cctoken`", what: "the command `go install` builds from host/cmd/cctoken (listed for linux, darwin and windows)",
		pkg: "./host/cmd/cctoken", goos: []string{"linux", "darwin", "windows"}, goarch: "amd64",
		includes: "the module and the bundle above"},
}

// bundled is one component as found in the artifacts.
type bundled struct {
	name, version string
	dir           string   // where its license files are
	source        string   // where to find it
	in            []string // artifact names
}

func main() {
	dir := flag.String("dir", ".", "where to write NOTICE and THIRD_PARTY.md")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "thirdparty:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	license, err := os.ReadFile("LICENSE")
	if err != nil {
		return err
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %v", err)
	}
	found := map[string]*bundled{}
	add := func(name, version, dir, source, in string) {
		b := found[name]
		if b == nil {
			b = &bundled{name: name, version: version, dir: dir, source: source}
			found[name] = b
		}
		if !slices.Contains(b.in, in) {
			b.in = append(b.in, in)
		}
	}
	table := make([][]string, len(artifacts))
	for i, a := range artifacts {
		var names []string
		for _, goos := range a.goos {
			mods, err := goModules(a.pkg, goos, a.goarch)
			if err != nil {
				return err
			}
			for _, m := range mods {
				if m.Path == "std" {
					add("std", runtime.Version(), strings.TrimSpace(string(goroot)), "https://go.dev/", a.name)
				} else {
					add(m.Path, m.Version, m.Dir, "https://pkg.go.dev/"+m.Path+"@"+m.Version, a.name)
				}
				names = append(names, m.Path)
			}
		}
		for _, p := range a.npm {
			v, err := npmVersion()
			if err != nil {
				return err
			}
			add(p, v, shimDir, "https://www.npmjs.com/package/"+p+"/v/"+v, a.name)
			names = append(names, p)
		}
		table[i] = names
	}
	// LICENSE is the Apache License 2.0 as wazero carries it (whose appendix
	// example names wazero's authors; ours keeps the placeholder).
	if w := found["github.com/tetratelabs/wazero"]; w != nil {
		text, err := os.ReadFile(filepath.Join(w.dir, "LICENSE"))
		if err != nil {
			return err
		}
		if !sameApache(text, license) {
			return errors.New("LICENSE is not the Apache License 2.0 text that wazero's LICENSE holds")
		}
	}
	names := make([]string, 0, len(found))
	for n := range found {
		c, ok := components[n]
		if !ok || c.license == "" {
			return fmt.Errorf("%s %s is bundled into %s but internal/thirdparty does not know it: read its license and add it to components", n, found[n].version, strings.Join(found[n].in, ", "))
		}
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { // std first, then by name
		if (names[i] == "std") != (names[j] == "std") {
			return names[i] == "std"
		}
		return names[i] < names[j]
	})

	var notice, third bytes.Buffer
	notice.WriteString(`cctoken
Copyright 2026 The cctoken Authors

Licensed under the Apache License, Version 2.0 (see LICENSE).

cctoken's artifacts carry third-party code, each part under its own license:
THIRD_PARTY.md lists them. What follows are the NOTICE files of the bundled
Apache-2.0 components, which their license asks every copy to keep.
(Generated by build.sh with internal/thirdparty: do not edit.)
`)
	fmt.Fprintf(&third, "# Third-party code in cctoken\n\n"+
		"cctoken is licensed under the Apache License 2.0 (LICENSE). Its artifacts carry the\n"+
		"third-party code below, each part under its own license, reproduced here. Generated by\n"+
		"`./build.sh` (internal/thirdparty) from the module graph and tests/node_modules: do not\n"+
		"edit; `./build.sh --check` fails when this file is stale.\n\n"+
		"| Artifact | What it is | Third-party code in it |\n| --- | --- | --- |\n")
	for i, a := range artifacts {
		var parts []string
		if a.includes != "" {
			parts = append(parts, a.includes)
		}
		seen := map[string]bool{}
		for _, n := range names { // the order of the sections below
			if slices.Contains(table[i], n) && !seen[n] {
				seen[n] = true
				parts = append(parts, label(found[n]))
			}
		}
		fmt.Fprintf(&third, "| %s | %s | %s |\n", a.name, a.what, strings.Join(parts, ", "))
	}
	for _, n := range names {
		b, c := found[n], components[n]
		fmt.Fprintf(&third, "\n## %s\n\n%s. Used for %s. In %s. Source: %s\n", label(b), c.license, c.role, strings.Join(b.in, ", "), b.source)
		if c.extra != "" {
			fmt.Fprintf(&third, "\n%s\n", c.extra)
		}
		files, err := licenseFiles(b.dir)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("%s: no license file in %s", n, b.dir)
		}
		for _, f := range files {
			text, err := os.ReadFile(filepath.Join(b.dir, f))
			if err != nil {
				return err
			}
			if sameApache(text, license) {
				fmt.Fprintf(&third, "\n`%s`: the Apache License 2.0, the text in LICENSE.\n", f)
				continue
			}
			if bytes.Contains(text, []byte("```")) {
				return fmt.Errorf("%s/%s contains a Markdown fence", n, f)
			}
			fmt.Fprintf(&third, "\n`%s`:\n\n```text\n%s\n```\n", f, bytes.TrimRight(text, "\n "))
			if strings.HasPrefix(strings.ToUpper(f), "NOTICE") {
				fmt.Fprintf(&notice, "\n-- %s (its NOTICE)\n\n%s\n", label(b), bytes.TrimRight(text, "\n "))
			}
		}
	}
	if err := os.WriteFile(filepath.Join(out, "NOTICE"), notice.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "THIRD_PARTY.md"), third.Bytes(), 0o644)
}

func label(b *bundled) string {
	if b.name == "std" {
		return "Go standard library " + b.version
	}
	return b.name + " " + b.version
}

type goModule struct{ Path, Version, Dir string }

// goModules lists the modules (and "std") whose packages pkg links when
// built for goos/goarch.
func goModules(pkg, goos, goarch string) ([]goModule, error) {
	cmd := exec.Command("go", "list", "-deps", "-json=Standard,Module", pkg)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s (GOOS=%s): %v\n%s", pkg, goos, err, stderr.String())
	}
	var mods []goModule
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			Standard bool
			Module   *goModule
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list %s: %v", pkg, err)
		}
		switch {
		case p.Standard:
			mods = append(mods, goModule{Path: "std"})
		case p.Module != nil && p.Module.Path != mainModule:
			mods = append(mods, *p.Module)
		}
	}
	return mods, nil
}

func npmVersion() (string, error) {
	b, err := os.ReadFile(filepath.Join(shimDir, "package.json"))
	if err != nil {
		return "", fmt.Errorf("%v (tests/setup.sh installs it)", err)
	}
	var p struct{ Version, License string }
	if err := json.Unmarshal(b, &p); err != nil || p.Version == "" {
		return "", fmt.Errorf("%s/package.json has no version", shimDir)
	}
	if want := components["@bjorn3/browser_wasi_shim"].license; p.License != want {
		return "", fmt.Errorf("@bjorn3/browser_wasi_shim %s says its license is %q, not %q: read it and update components", p.Version, p.License, want)
	}
	return p.Version, nil
}

var licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|patents)(-[a-z0-9]+)?(\.(txt|md))?$`)

// licenseFiles lists the license, notice and patent files at the top of dir.
func licenseFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && licenseName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// appendixCopyright is the example line in the Apache License's appendix,
// which projects fill in with their own name.
var appendixCopyright = regexp.MustCompile(`(?m)^ *Copyright .*$`)

// sameApache reports whether text is the Apache License 2.0 of LICENSE,
// whatever its appendix example says and however it is padded.
func sameApache(text, license []byte) bool {
	norm := func(b []byte) []byte {
		return bytes.TrimSpace(appendixCopyright.ReplaceAll(b, nil))
	}
	return bytes.Equal(norm(text), norm(license))
}
