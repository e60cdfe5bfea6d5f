package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/plugin/token"
)

func newKeygen() *cobra.Command {
	var typ, out, kid string
	var bits int
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make a signing key pair: private key, public PEM and public JWK",
		Long: `keygen writes three files:

  OUT.key       the private key (PKCS#8 PEM, mode 0600): keep it with the client
  OUT.pub.pem   the public key (SPKI PEM): for the plugin's jwt or http_signature keys
  OUT.jwk.json  the public key as a JWK with "kid": for a JWKS

The kid defaults to the SHA-256 fingerprint of the public PEM (what
asymmetric-jwt-auth clients send).`,
		Example: `  tokengate keygen --type ed25519 --out bot
  tokengate keygen --type ecdsa-p256 --out partner --kid partner-2026
  tokengate keygen --type rsa --bits 3072 --out legacy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := generateKey(typ, bits)
			if err != nil {
				return err
			}
			paths, kid, err := writeKeyFiles(key, out, kid)
			if err != nil {
				return err
			}
			for _, p := range paths {
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", p)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "kid", kid)
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "ed25519", "key type: ed25519, ecdsa-p256 or rsa")
	cmd.Flags().IntVar(&bits, "bits", 3072, "RSA modulus size (2048-8192)")
	cmd.Flags().StringVar(&out, "out", "tokengate", "file name prefix")
	cmd.Flags().StringVar(&kid, "kid", "", "key id for the JWK (default: fingerprint)")
	return cmd
}

func generateKey(typ string, bits int) (crypto.Signer, error) {
	switch typ {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case "ecdsa-p256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		if bits < 2048 || bits > 8192 {
			return nil, fmt.Errorf("--bits must be 2048-8192")
		}
		return rsa.GenerateKey(rand.Reader, bits)
	}
	return nil, fmt.Errorf("--type %q: want ed25519, ecdsa-p256 or rsa", typ)
}

// writeKeyFiles writes the three files and returns their paths and the kid.
// The private key file is created exclusively: an existing key is never
// overwritten.
func writeKeyFiles(key crypto.Signer, out, kid string) ([]string, string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	pub, err := token.PublicPEM(key.Public())
	if err != nil {
		return nil, "", err
	}
	if kid == "" {
		if kid, err = token.Fingerprint(key.Public()); err != nil {
			return nil, "", err
		}
	}
	jwk, err := token.PublicJWK(key.Public(), kid)
	if err != nil {
		return nil, "", err
	}
	f, err := os.OpenFile(out+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, "", err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := f.Close(); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(out+".pub.pem", []byte(pub), 0o644); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(out+".jwk.json", []byte(jwk+"\n"), 0o644); err != nil {
		return nil, "", err
	}
	return []string{out + ".key", out + ".pub.pem", out + ".jwk.json"}, kid, nil
}
