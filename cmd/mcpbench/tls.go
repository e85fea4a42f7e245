package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"

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
		if cert, certPEM, err = selfSigned(f.keyType); err != nil {
			return nil, err
		}
	}
	if f.certOut != "" {
		if err := os.WriteFile(f.certOut, certPEM, 0o644); err != nil {
			return nil, fmt.Errorf("--cert-out: %v", err)
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSigned makes a certificate for 127.0.0.1, ::1 and localhost, valid
// for a day, with an ECDSA P-256 or RSA-2048 key.
func selfSigned(keyType string) (tls.Certificate, []byte, error) {
	var key crypto.Signer
	var err error
	switch keyType {
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return tls.Certificate{}, nil, fmt.Errorf("--tls-key %q: want ecdsa or rsa", keyType)
	}
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "mcpbench"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// clientTLS reads load's --cacert and --insecure: nil for Go's defaults.
func clientTLS(cacert string, insecure bool) (*tls.Config, error) {
	switch {
	case cacert != "" && insecure:
		return nil, fmt.Errorf("--cacert and --insecure: give one")
	case insecure:
		return &tls.Config{InsecureSkipVerify: true}, nil
	case cacert != "":
		b, err := os.ReadFile(cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--cacert %s: no PEM certificate in it", cacert)
		}
		return &tls.Config{RootCAs: pool}, nil
	}
	return nil, nil
}
