package preset

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/cctoken/cctoken/wasm/internal/keboola"
)

// Option changes how Load, Lint, EnvNames and Convert read a document.
type Option func(*options)

type options struct {
	username string
}

// WithUsername names the user of an imported document that has no
// usernames of its own (a Keboola configuration); the default is
// keboola.DefaultUsername ("keboola"). Preset documents ignore it.
func WithUsername(name string) Option { return func(o *options) { o.username = name } }

func newLoader(opts []Option) *loader {
	l := &loader{}
	for _, o := range opts {
		if o != nil {
			o(&l.options)
		}
	}
	return l
}

// keboola loads a Keboola generic-extractor configuration (shape 4):
// package keboola maps it onto a preset document, which is loaded like any
// other, and every issue found in that document is pointed back at the
// place in the configuration it came from.
func (l *loader) keboola(root ast.Node) []Account {
	p, issues := keboola.Read(root, l.username)
	for _, is := range issues {
		l.add(is.Node, is.Path, is.Message)
	}
	if p == nil {
		return nil
	}
	l.imported = p
	sub := &loader{env: l.env, lint: l.lint, names: l.names}
	accounts := sub.run(p.YAML(keboola.Literal))
	for _, is := range sub.issues {
		if is.Message == internalError {
			l.issues = append(l.issues, is)
			continue
		}
		path, n := p.Origin(is.Field)
		l.add(n, path, is.Message)
	}
	if len(sub.issues) > 0 {
		return nil
	}
	return accounts
}

// Convert turns a Keboola generic-extractor configuration into the
// equivalent preset document (YAML), with the client secret, and a client
// id Keboola keeps encrypted, replaced by ${env:CCTOKEN_<USER>_…}
// references. env lists, sorted, every variable that document reads. A
// configuration with any issue gives Errors, as Lint would; so does a
// document that is already a preset.
func Convert(text []byte, opts ...Option) (yaml []byte, env []string, err error) {
	l := newLoader(opts)
	l.lint = true
	l.run(text)
	switch {
	case l.shape == "preset":
		return nil, nil, Errors{{Message: "this document is already a cctoken preset; convert reads Keboola generic-extractor configurations (check a preset with cctoken lint)."}}
	case len(l.issues) > 0:
		return nil, nil, l.issues
	case l.imported == nil:
		return nil, nil, Errors{{Message: "this is not a Keboola generic-extractor configuration. " + shapes}}
	}
	yaml = l.imported.YAML(keboola.EnvRefs)
	return yaml, EnvNames(yaml), nil
}
