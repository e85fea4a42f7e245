// Package tlsca makes the certificates mcpbench serves HTTPS with: a
// self-signed one for a server started by hand, or, for a run, a CA of
// the run's own that issues every server's certificate, so that the
// generator verifies real chains against one root (certificate
// verification is part of a handshake's cost).
package tlsca

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
	"strings"
	"time"
)

// Lifetime is how long the certificates made here are valid: a day, from
// a minute ago.
const Lifetime = 24 * time.Hour

// CA is a run's certificate authority: an ECDSA P-256 root, kept in memory.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

// New makes a CA.
func New() (*CA, error) {
	key, err := NewKey("ecdsa")
	if err != nil {
		return nil, err
	}
	tmpl := template("mcpbench run CA")
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.MaxPathLenZero = true, true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// PEM is the CA's certificate, for clients to trust (load --cacert).
func (ca *CA) PEM() []byte { return ca.pem }

// Pool is a pool holding the CA's certificate alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Issue makes a server certificate for 127.0.0.1, ::1 and localhost with
// a new key of keyType (ecdsa: P-256, rsa: 2048 bits), signed by the CA,
// and returns it as PEM: the chain (leaf, then the CA) and the key.
func (ca *CA) Issue(keyType string) (chainPEM, keyPEM []byte, err error) {
	key, err := NewKey(keyType)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf(), ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	chainPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.pem...)
	return chainPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// SelfSigned makes a self-signed server certificate for 127.0.0.1, ::1
// and localhost with a new key of keyType, and returns it with its PEM
// (which clients can trust as it is).
func SelfSigned(keyType string) (tls.Certificate, []byte, error) {
	key, err := NewKey(keyType)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := leaf()
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage |= x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// NewKey makes a key: ecdsa (P-256) or rsa (2048 bits).
func NewKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case "ecdsa":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("key type %q: want ecdsa or rsa", keyType)
}

func template(cn string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	return &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(Lifetime)}
}

// leaf is a server certificate's template.
func leaf() *x509.Certificate {
	t := template("mcpbench")
	t.KeyUsage = x509.KeyUsageDigitalSignature
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	t.DNSNames = []string{"localhost"}
	t.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	return t
}

// groups are the key exchanges Go's TLS offers, by the names Group takes.
var groups = []tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024, tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}

// Group finds a key-exchange group by its name, case aside: X25519,
// X25519MLKEM768, P256 (or P-256, CurveP256) and the others GroupNames
// lists.
func Group(name string) (tls.CurveID, bool) {
	for _, id := range groups {
		n := id.String()
		if strings.EqualFold(name, n) || strings.EqualFold("Curve"+strings.ReplaceAll(name, "-", ""), n) {
			return id, true
		}
	}
	return 0, false
}

// GroupNames are the names of the groups Group knows.
func GroupNames() []string {
	var names []string
	for _, id := range groups {
		names = append(names, strings.TrimPrefix(id.String(), "Curve"))
	}
	return names
}
