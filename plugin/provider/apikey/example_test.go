package apikey_test

import (
	"bytes"
	"fmt"

	"github.com/tokengate/tokengate/plugin/provider/apikey"
)

// A new key and the hash that goes into the configuration. Real keys use
// crypto/rand.Reader; a fixed source keeps this example's output stable.
func ExampleGenerate() {
	key, err := apikey.Generate("ci-bot", bytes.NewReader(bytes.Repeat([]byte{7, 100, 200}, 64)))
	if err != nil {
		panic(err)
	}
	fmt.Println(key)
	fmt.Println(apikey.Hash(key))
	// Output:
	// tg_ci-bot_7cE7cE7cE7cE7cE7cE7cE7cE7cE7cE7cE7cE7cE7cE7
	// sha256:6c5e503263d957434352a5e25b58e63e69a45ee72e387d5c6903beeb3ad454af
}
