package fieldexp

import (
	"crypto/ed25519"
	"crypto/sha256"
)

// ed25519Input is a fixed key, a JWT-sized message and its signature.
func ed25519Input() (pub ed25519.PublicKey, msg, sig []byte) {
	seed := sha256.Sum256([]byte("fieldexp ed25519 key"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	msg = make([]byte, 300)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	return priv.Public().(ed25519.PublicKey), msg, ed25519.Sign(priv, msg)
}
