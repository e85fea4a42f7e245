package main

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/mcpbench/mcpbench/internal/tlsca"
)

// BenchmarkTLSHandshake is one TLS 1.3 connection over loopback TCP —
// dial, handshake, the server's first record, close — the client's and
// the server's work together (one process, wall time), by the server's
// key type, the key-exchange group, and full or resumed (a session
// ticket; TLS 1.3 resumption still does a key exchange, psk_dhe_ke). Beside one bearer token's check (servers/auth BenchmarkVerify)
// it says what a connection's handshake costs.
func BenchmarkTLSHandshake(b *testing.B) {
	for _, key := range []string{"ecdsa", "rsa"} {
		cert, pemBytes, err := tlsca.SelfSigned(key)
		if err != nil {
			b.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pemBytes)
		for _, group := range []tls.CurveID{tls.X25519, tls.X25519MLKEM768, tls.CurveP256} {
			for _, resumed := range []bool{false, true} {
				name := key + "/" + group.String() + "/full"
				if resumed {
					name = key + "/" + group.String() + "/resumed"
				}
				b.Run(name, func(b *testing.B) {
					ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{group}})
					if err != nil {
						b.Fatal(err)
					}
					defer ln.Close()
					go func() {
						for {
							c, err := ln.Accept()
							if err != nil {
								return
							}
							go func() {
								defer c.Close()
								if err := c.(*tls.Conn).Handshake(); err == nil {
									c.Write([]byte{1}) // a first record, so the client gets its ticket
								}
							}()
						}
					}()
					cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{group}}
					if resumed {
						cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
					}
					dial := func() bool {
						c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
						if err != nil {
							b.Fatal(err)
						}
						var one [1]byte
						c.Read(one[:])
						r := c.ConnectionState().DidResume
						c.Close()
						return r
					}
					if resumed {
						dial() // the ticket
					}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if dial() != resumed {
							b.Fatalf("resumed %v, want %v", !resumed, resumed)
						}
					}
				})
			}
		}
	}
}
