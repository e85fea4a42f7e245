// Package jwtkey reads the asymmetric keys of JWT client assertions
// (RFC 7523) from PEM, and says which algorithm each key signs with: the
// algorithm follows from the key, never from a token's header, so that a
// verifier pins it (ES256 for a P-256 key, RS256 for RSA, EdDSA for
// Ed25519).
package jwtkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Method is the signing method of key (a public or a private key).
func Method(key any) (jwt.SigningMethod, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return Method(&k.PublicKey)
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA key on %s: only P-256 (ES256) is taken", k.Curve.Params().Name)
		}
		return jwt.SigningMethodES256, nil
	case *rsa.PrivateKey:
		return Method(&k.PublicKey)
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits: at least 2048", k.N.BitLen())
		}
		return jwt.SigningMethodRS256, nil
	case ed25519.PrivateKey, ed25519.PublicKey:
		return jwt.SigningMethodEdDSA, nil
	}
	return nil, fmt.Errorf("key of type %T: want ECDSA P-256, RSA or Ed25519", key)
}

// Private reads a PEM private key (PKCS #8, or SEC 1 "EC PRIVATE KEY", or
// PKCS #1 "RSA PRIVATE KEY") and returns it with its signing method.
func Private(pemBytes []byte) (crypto.Signer, jwt.SigningMethod, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, nil, errors.New("no PEM block: want a private key in PEM")
	}
	var key any
	var err error
	switch b.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		return nil, nil, fmt.Errorf("PEM block %q: want a PRIVATE KEY", b.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("private key: %w", err)
	}
	m, err := Method(key)
	if err != nil {
		return nil, nil, err
	}
	return key.(crypto.Signer), m, nil
}

// Public reads a PEM public key (PKIX "PUBLIC KEY") and returns it with
// its signing method.
func Public(pemBytes []byte) (crypto.PublicKey, jwt.SigningMethod, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, nil, errors.New("want a PEM PUBLIC KEY block")
	}
	key, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("public key: %w", err)
	}
	m, err := Method(key)
	if err != nil {
		return nil, nil, err
	}
	return key, m, nil
}

// PublicPEM is the PEM PUBLIC KEY of key.
func PublicPEM(key crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PrivatePEM is the PEM (PKCS #8) PRIVATE KEY of key.
func PrivatePEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
