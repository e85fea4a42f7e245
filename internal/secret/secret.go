// Package secret reads secrets given by reference (env:NAME, @FILE) and
// redacts them from command lines that results record.
package secret

import (
	"fmt"
	"os"
	"strings"
)

// secretFlags take a secret as their value (or as the part after ':').
var secretFlags = map[string]bool{
	"--client": true, "--api-key": true, "--hmac-secret": true, "--introspect-client": true,
}

// secretHeaders are headers whose values are credentials.
var secretHeaders = []string{"authorization", "x-api-key", "cookie", "proxy-authorization"}

// Redact returns a copy of a command line with secrets replaced by
// "REDACTED": the values of --client ID:SECRET (the ID is kept),
// --api-key, --hmac-secret and --introspect-client, and credential headers
// given with -H. Results record the command that made them; they must not
// record its secrets.
func Redact(args []string) []string {
	out := append([]string(nil), args...)
	redact := func(i int, flag string) {
		v := out[i]
		if flag == "--client" || flag == "--introspect-client" {
			if id, sec, ok := strings.Cut(v, ":"); ok {
				if !isSecretRef(sec) {
					out[i] = id + ":REDACTED"
				}
				return
			}
		}
		if !isSecretRef(v) {
			out[i] = "REDACTED"
		}
	}
	for i := 0; i < len(out); i++ {
		a := out[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case secretFlags[name] && hasValue:
			tmp := []string{value}
			out2 := Redact(append([]string{name}, tmp...))
			out[i] = name + "=" + out2[1]
		case secretFlags[a] && i+1 < len(out):
			redact(i+1, a)
			i++
		case (a == "-H" || a == "--header") && i+1 < len(out):
			out[i+1] = redactHeader(out[i+1])
			i++
		case strings.HasPrefix(a, "--header=") || strings.HasPrefix(a, "-H="):
			k, v, _ := strings.Cut(a, "=")
			out[i] = k + "=" + redactHeader(v)
		}
	}
	return out
}

func redactHeader(h string) string {
	name, _, ok := strings.Cut(h, ":")
	if !ok {
		return h
	}
	for _, s := range secretHeaders {
		if strings.EqualFold(strings.TrimSpace(name), s) {
			return name + ": REDACTED"
		}
	}
	return h
}

// Read returns the secret v names: "env:NAME" is the value of the
// environment variable NAME, "@PATH" the first line of the file PATH, and
// anything else v itself. A command line is readable by every user of the
// machine (ps, /proc/PID/cmdline); a process's environment and a 0600 file
// are not, so secrets given as references stay private. References are kept
// as they are by Redact: they name a secret without holding it.
func Read(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "env:"):
		name := v[len("env:"):]
		s, ok := os.LookupEnv(name)
		if name == "" || !ok || s == "" {
			return "", fmt.Errorf("%s: the environment has no %s (export it, or give the secret another way)", v, name)
		}
		return s, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return "", fmt.Errorf("%s: %w", v, err)
		}
		s, _, _ := strings.Cut(string(b), "\n")
		if s = strings.TrimSpace(s); s == "" {
			return "", fmt.Errorf("%s: the file's first line is empty", v)
		}
		return s, nil
	}
	return v, nil
}

func isSecretRef(v string) bool {
	return strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "@")
}
