package driver

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestH2StrictStreams: 8 callers over one HTTP/2 connection to a server
// that allows 2 streams at once: every call is answered, as h2 (over TLS
// by ALPN, and h2c), at most 2 at a time, and Go opens no second
// connection; headers and bodies cross both ways.
func TestH2StrictStreams(t *testing.T) {
	for _, secure := range []bool{true, false} {
		var inFlight, most atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			if r.ProtoMajor != 2 || r.Header.Get("X-Test") != "yes" || r.Header.Get("Content-Type") != "application/json" {
				w.WriteHeader(400)
				return
			}
			time.Sleep(20 * time.Millisecond)
			w.Header().Set("X-Reply", "ok")
			body, _ := io.ReadAll(r.Body)
			w.Write([]byte(r.Proto + " " + string(body)))
		})
		srv := httptest.NewUnstartedServer(h)
		srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2}
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
		srv.Config.Protocols = &p
		var tlsCfg *tls.Config
		if secure {
			srv.EnableHTTP2 = true
			srv.StartTLS()
			tlsCfg = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
		} else {
			srv.Start()
		}
		addr := srv.Listener.Addr().String()
		var stats TLSStats
		var wire Counter
		c := NewH2(ClientConfig{Addr: addr, TLS: secure, TLSConfig: tlsCfg, DialTimeout: time.Second, Counter: &wire, TLSStats: &stats}, 1)
		var wg sync.WaitGroup
		var bad atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn := c.Conn()
				req, resp := new(fasthttp.Request), new(fasthttp.Response)
				req.SetRequestURI("http://" + addr + "/x?y=1")
				req.Header.SetMethod("POST")
				req.Header.Set("X-Test", "yes")
				req.Header.SetContentType("application/json")
				req.SetBodyString(`{"a":1}`)
				for range 3 {
					if err := conn.DoDeadline(req, resp, time.Now().Add(5*time.Second)); err != nil || resp.StatusCode() != 200 ||
						string(resp.Body()) != `HTTP/2.0 {"a":1}` || string(resp.Header.Peek("X-Reply")) != "ok" {
						t.Errorf("secure %v: %v %d %q", secure, err, resp.StatusCode(), resp.Body())
						bad.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if c.Dials() != 1 || c.Callers() != 8 || most.Load() > 2 || most.Load() < 2 || c.MaxStreams() != 2 {
			t.Errorf("secure %v: %d dials, %d callers, %d streams at most (the server allows 2)", secure, c.Dials(), c.Callers(), most.Load())
		}
		if info := stats.Take(); secure && (info == nil || info.ALPN != "h2" || info.Handshakes != 1) {
			t.Errorf("TLS %+v", info)
		}
		if r, w := wire.Bytes(); r == 0 || w == 0 {
			t.Errorf("bytes %d/%d", r, w)
		}
		c.Close()
		wire.CloseAll()
		srv.Close()
	}
}
