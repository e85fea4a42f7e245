package main

import (
	"crypto"
	"fmt"
	"os"
	"strings"

	"github.com/mcpbench/mcpbench/internal/jwtkey"
	"github.com/mcpbench/mcpbench/internal/secret"
)

// secretHelp ends the help of every flag that takes a secret.
const secretHelp = " (the secret may be env:NAME or @FILE, which ps does not show)"

// readSecret resolves a secret flag's value (see secret.Read).
func readSecret(flag, v string) (string, error) {
	s, err := secret.Read(v)
	if err != nil {
		return "", fmt.Errorf("--%s %w", flag, err)
	}
	return s, nil
}

// readCredentials splits a flag's ID:SECRET and resolves the secret.
func readCredentials(flag, v string) (id, secret string, err error) {
	id, sec, ok := strings.Cut(v, ":")
	if !ok || id == "" || sec == "" {
		return "", "", fmt.Errorf("--%s %q: want ID:SECRET", flag, v)
	}
	secret, err = readSecret(flag, sec)
	return id, secret, err
}

// readPEM reads a key flag's PEM: a file (FILE or @FILE, whole) or the
// environment (env:NAME).
func readPEM(flag, v string) ([]byte, error) {
	if strings.HasPrefix(v, "env:") {
		s, err := readSecret(flag, v)
		return []byte(s), err
	}
	b, err := os.ReadFile(strings.TrimPrefix(v, "@"))
	if err != nil {
		return nil, fmt.Errorf("--%s: %v", flag, err)
	}
	return b, nil
}

// readClientKey reads load's --client-key: a PEM private key.
func readClientKey(v string) (crypto.Signer, error) {
	b, err := readPEM("client-key", v)
	if err != nil {
		return nil, err
	}
	key, _, err := jwtkey.Private(b)
	if err != nil {
		return nil, fmt.Errorf("--client-key: %v", err)
	}
	return key, nil
}

// readClientPublicKey reads the authorization server's --client-key
// ID:KEY, a PEM public key as @FILE (or FILE) or env:NAME.
func readClientPublicKey(v string) (string, crypto.PublicKey, error) {
	id, where, ok := strings.Cut(v, ":")
	if !ok || id == "" || where == "" {
		return "", nil, fmt.Errorf("--client-key %q: want ID:@FILE or ID:env:NAME", v)
	}
	b, err := readPEM("client-key", where)
	if err != nil {
		return "", nil, err
	}
	key, _, err := jwtkey.Public(b)
	if err != nil {
		return "", nil, fmt.Errorf("--client-key %s: %v", id, err)
	}
	return id, key, nil
}
