// Package version holds the one version number that every cctoken artifact
// reports: the Go command, the module's ABI answer and the npm package.
package version

// Version is the project's version (semantic versioning). A release
// changes it here, in js/package.json and in CHANGELOG.md together.
const Version = "0.1.0"
