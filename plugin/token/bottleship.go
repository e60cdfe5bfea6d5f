package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// BottleshipSign is bottleship's data_encode(text, key):
// "!" + B64(HMAC-SHA256(key, B64(text))) + "?" + B64(text), standard padded
// base64, the MAC taken over the base64 text.
func BottleshipSign(text string, key []byte) string {
	d := base64.StdEncoding.EncodeToString([]byte(text))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(d))
	return "!" + base64.StdEncoding.EncodeToString(mac.Sum(nil)) + "?" + d
}
