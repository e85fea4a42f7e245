// Package serving runs a server until its context ends: the one loop
// behind every server's Serve.
package serving

import (
	"context"
	"net/http"
)

// Until runs serve in a goroutine until it fails or ctx is done. When
// serve fails first, Until returns its error. Once ctx is done, it calls
// shutdown, which must make serve return, waits for serve, and returns
// shutdown's error (serve's own, after a shutdown, is the expected "server
// closed").
func Until(ctx context.Context, serve func() error, shutdown func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	err := shutdown()
	<-errc
	return err
}

// HTTP2 makes a net/http server speak HTTP/1.1 and HTTP/2: h2 over TLS
// when the listener's TLS configuration offers it by ALPN (the server is
// given a listener, not a certificate), and h2c with prior knowledge on
// plaintext. It returns s.
func HTTP2(s *http.Server) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	s.Protocols = &p
	return s
}
