// Package cctoken only holds the web assets that the cctoken command serves
// with `cctoken explore`: the API explorer page (index.html) and the browser
// bundle of the JavaScript glue (js/dist/cctoken.bundle.js, built by
// build.sh). Go's embed cannot reach files above a package's directory, so
// they are embedded here, at the repository root. The module itself is
// embedded once, by package host/embed; the Go library is package host.
package cctoken

import "embed"

// WebAssets holds index.html and js/dist/cctoken.bundle.js, at those paths.
//
//go:embed index.html js/dist/cctoken.bundle.js
var WebAssets embed.FS
