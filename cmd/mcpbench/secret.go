package main

import (
	"fmt"
	"strings"

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
