package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/internal/tlsca"
	"github.com/spf13/pflag"
)

// tlsFlags are serve's HTTPS flags.
type tlsFlags struct {
	on                 bool
	keyType            string
	cert, key, certOut string
}

func (f *tlsFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.on, "tls", false, "serve HTTPS (TLS 1.2 and 1.3) with a certificate made at start for 127.0.0.1 and localhost, or --cert/--key")
	fs.StringVar(&f.keyType, "tls-key", "ecdsa", "--tls: the made certificate's key, ecdsa (P-256) or rsa (2048 bits)")
	fs.StringVar(&f.cert, "cert", "", "--tls: a PEM certificate (chain) to serve, with --key")
	fs.StringVar(&f.key, "key", "", "--tls: the PEM private key of --cert")
	fs.StringVar(&f.certOut, "cert-out", "", "--tls: write the served certificate (PEM) here, for clients to trust (load --cacert)")
}

// config returns the server's TLS configuration, or nil without --tls.
func (f *tlsFlags) config() (*tls.Config, error) {
	if !f.on {
		if f.cert != "" || f.key != "" || f.certOut != "" {
			return nil, fmt.Errorf("--cert, --key and --cert-out need --tls")
		}
		return nil, nil
	}
	var cert tls.Certificate
	var certPEM []byte
	switch {
	case (f.cert == "") != (f.key == ""):
		return nil, fmt.Errorf("give --cert and --key together")
	case f.cert != "":
		var err error
		if cert, err = tls.LoadX509KeyPair(f.cert, f.key); err != nil {
			return nil, fmt.Errorf("--cert/--key: %v", err)
		}
		certPEM, _ = os.ReadFile(f.cert)
	default:
		var err error
		if cert, certPEM, err = tlsca.SelfSigned(f.keyType); err != nil {
			return nil, fmt.Errorf("--tls-key: %v", err)
		}
	}
	if f.certOut != "" {
		if err := os.WriteFile(f.certOut, certPEM, 0o644); err != nil {
			return nil, fmt.Errorf("--cert-out: %v", err)
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// pemBundle is cert's chain and private key, PEM, in one file: what
// HAProxy's crt (and OpenSSL generally) takes.
func pemBundle(cert tls.Certificate) ([]byte, error) {
	var b []byte
	for _, der := range cert.Certificate {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("the certificate's key: %v", err)
	}
	return append(b, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...), nil
}

// clientTLSFlags are load's HTTPS flags.
type clientTLSFlags struct {
	cacert, version, groups string
	insecure, resume        bool
}

func (f *clientTLSFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.cacert, "cacert", "", "https: trust the certificates in this PEM file (e.g. serve --tls --cert-out's, or a run's CA)")
	fs.BoolVar(&f.insecure, "insecure", false, "https: do not verify the server's certificate")
	fs.StringVar(&f.version, "tls-version", "", "https: speak only this TLS version, 1.2 or 1.3 (default: 1.2 or 1.3, as the server prefers)")
	fs.StringVar(&f.groups, "tls-groups", "", "https: the key-exchange groups to offer, in order, e.g. X25519 or X25519MLKEM768,X25519 (default Go's: X25519MLKEM768 first)")
	fs.BoolVar(&f.resume, "tls-resume", true, "https: resume sessions from tickets when a connection is made again (see --new-conn-per-call); false makes every handshake a full one")
}

// changed says whether any flag but the trust ones was given.
func (f *clientTLSFlags) changed(fs *pflag.FlagSet) bool {
	return fs.Changed("tls-version") || fs.Changed("tls-groups") || fs.Changed("tls-resume") || f.cacert != "" || f.insecure
}

// config returns the client's TLS configuration: nil for Go's defaults.
func (f *clientTLSFlags) config() (*tls.Config, error) {
	cfg := &tls.Config{}
	switch {
	case f.cacert != "" && f.insecure:
		return nil, fmt.Errorf("--cacert and --insecure: give one")
	case f.insecure:
		cfg.InsecureSkipVerify = true
	case f.cacert != "":
		b, err := os.ReadFile(f.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--cacert %s: no PEM certificate in it", f.cacert)
		}
		cfg.RootCAs = pool
	}
	switch f.version {
	case "":
	case "1.2":
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	case "1.3":
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	default:
		return nil, fmt.Errorf("--tls-version %q: want 1.2 or 1.3", f.version)
	}
	if f.groups != "" {
		for _, name := range strings.Split(f.groups, ",") {
			id, ok := tlsca.Group(strings.TrimSpace(name))
			if !ok {
				return nil, fmt.Errorf("--tls-groups: unknown group %q: want some of %s", name, strings.Join(tlsca.GroupNames(), ", "))
			}
			cfg.CurvePreferences = append(cfg.CurvePreferences, id)
		}
	}
	if f.resume {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return cfg, nil
}

// tlsLine says in a line what a run's TLS connections negotiated and what
// their handshakes took.
func tlsLine(t *bench.TLSInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s, %s", t.Version, t.CipherSuite, t.Group)
	if t.ALPN != "" {
		fmt.Fprintf(&b, ", ALPN %s", t.ALPN)
	}
	fmt.Fprintf(&b, "; %d handshakes (%d resumed), p50 %s, p99 %s", t.Handshakes, t.Resumed,
		results.FormatNs(t.Handshake.P50), results.FormatNs(t.Handshake.P99))
	if t.Failed > 0 {
		fmt.Fprintf(&b, "; %d failed", t.Failed)
	}
	return b.String()
}
