package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// readSecret resolves a secret argument: "env:NAME", "file:PATH" or the
// literal value. Error messages name where the secret was looked for,
// never its value.
func readSecret(what, spec string) ([]byte, error) {
	switch {
	case spec == "":
		return nil, fmt.Errorf("%s is required", what)
	case strings.HasPrefix(spec, "env:"):
		v, ok := os.LookupEnv(spec[4:])
		if !ok || v == "" {
			return nil, fmt.Errorf("%s: environment variable %s is not set", what, spec[4:])
		}
		return []byte(v), nil
	case strings.HasPrefix(spec, "file:"):
		b, err := os.ReadFile(spec[5:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	return []byte(spec), nil
}

// readPrivateKey loads a PEM private key (PKCS#8, SEC 1 or PKCS#1).
func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: PEM block %q is not a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	}
	return nil, errors.New(path + ": unsupported key type")
}
