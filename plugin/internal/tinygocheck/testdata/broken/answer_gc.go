//go:build !tinygo

package broken

const answer = 42
