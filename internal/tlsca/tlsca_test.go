package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

// TestIssue: a certificate the CA issues verifies against the CA's pool
// for 127.0.0.1 and localhost, serves a real handshake, and fails for
// another name and against another CA.
func TestIssue(t *testing.T) {
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New()
	for _, kt := range []string{"ecdsa", "rsa"} {
		chain, key, err := ca.Issue(kt)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(chain, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(cert.Certificate) != 2 {
			t.Fatalf("%s: chain of %d, want leaf and CA", kt, len(cert.Certificate))
		}
		leaf, _ := x509.ParseCertificate(cert.Certificate[0])
		for _, tc := range []struct {
			name string
			pool *x509.CertPool
			ok   bool
		}{{"127.0.0.1", ca.Pool(), true}, {"localhost", ca.Pool(), true}, {"example.com", ca.Pool(), false}, {"127.0.0.1", other.Pool(), false}} {
			_, err := leaf.Verify(x509.VerifyOptions{DNSName: tc.name, Roots: tc.pool})
			if (err == nil) != tc.ok {
				t.Errorf("%s: verify %s: %v, want ok %v", kt, tc.name, err, tc.ok)
			}
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool()})
		if err != nil {
			t.Errorf("%s: handshake: %v", kt, err)
		} else {
			c.Close()
		}
		ln.Close()
	}
	if _, _, err := ca.Issue("dsa"); err == nil {
		t.Error("key type dsa accepted")
	}
	self, pemBytes, err := SelfSigned("ecdsa")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	leaf, _ := x509.ParseCertificate(self.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "127.0.0.1", Roots: pool}); err != nil {
		t.Errorf("self-signed: %v", err)
	}
}
