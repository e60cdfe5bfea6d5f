//go:build tinygo

package broken

const answer = undefinedInTinyGo
