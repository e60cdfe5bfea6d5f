// Package broken is a fixture for tinygocheck's test: it is fine for standard Go and broken
// only under the tinygo build tag, the kind of mistake the check exists to catch.
package broken

// Answer is defined by a build-tagged file.
var Answer = answer
