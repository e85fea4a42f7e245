package driver_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/benchtest"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/bench/oauth"
	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/authserver"
	"github.com/mcpbench/mcpbench/servers/mcp/fast"
)

const mcpEcho = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},"name":"echo","arguments":{"message":"hi"}}}`

var mcpHeaders = []driver.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Accept", Value: "application/json, text/event-stream"},
	{Name: "MCP-Protocol-Version", Value: "2026-07-28"}, {Name: "Mcp-Method", Value: "tools/call"}, {Name: "Mcp-Name", Value: "echo"}}

// protectedFast runs an authorization server (on asAddr, so that it can be
// brought back on the same address) and the fast MCP server trusting it.
func protectedFast(t *testing.T, ttl time.Duration) (as *authserver.Server, asCancel context.CancelFunc, asLn net.Listener, resource string) {
	t.Helper()
	asLn, _ = net.Listen("tcp", "127.0.0.1:0")
	as, err := authserver.New(authserver.Options{Issuer: "http://" + asLn.Addr().String(), Clients: map[string]string{"bench": "pw"}, Alg: "ES256", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	asCtx, asCancel := context.WithCancel(context.Background())
	asDone := make(chan struct{})
	go func() { as.Serve(asCtx, asLn); close(asDone) }()
	t.Cleanup(func() { asCancel(); <-asDone })

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	resource = "http://" + ln.Addr().String() + "/mcp"
	ctx, cancel := context.WithCancel(context.Background())
	v, err := auth.NewJWT(ctx, auth.JWTConfig{Issuer: as.Issuer(), Audience: resource, JWKSURL: as.Issuer() + "/jwks.json", RefetchEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		fast.Serve(ctx, ln, fast.Options{Verifier: v, Resource: resource, Issuer: as.Issuer()})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return as, asCancel, asLn, resource
}

// TestKeyRotationMidRun: the issuer rotates its signing key in the middle
// of an open-loop run with 2-second tokens; the client refreshes, the
// server fetches the new key on its unknown kid, and not one call fails.
func TestKeyRotationMidRun(t *testing.T) {
	as, _, _, resource := protectedFast(t, 2*time.Second)
	o, _ := oauth.New(oauth.Config{Resource: resource, ClientID: "bench", ClientSecret: "pw"})
	d, err := httpcall.New(httpcall.Config{URL: resource, Method: "POST", Body: []byte(mcpEcho), Header: mcpHeaders, Auth: driver.BearerOf(o), Connections: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var rotated atomic.Bool
	time.AfterFunc(1500*time.Millisecond, func() { as.Rotate(); rotated.Store(true) })
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 300), Connections: 4, Duration: 4 * time.Second, Warmup: 0})
	if !rotated.Load() {
		t.Fatal("the key was not rotated during the run")
	}
	if a := res.Accounting; a.Errors != 0 || a.OK < 1000 {
		t.Errorf("accounting %+v: calls failed across a key rotation", a)
	}
	if fetched, _ := o.Stats(); fetched < 2 {
		t.Errorf("%d tokens fetched: no refresh happened", fetched)
	}
}

// TestAuthServerDownDuringRefresh: with 1-second tokens and the issuer
// down, calls fail with the token class once the token expires — counted,
// never lost — and succeed again once the issuer is back.
func TestAuthServerDownDuringRefresh(t *testing.T) {
	as, asCancel, asLn, resource := protectedFast(t, time.Second)
	o, _ := oauth.New(oauth.Config{Resource: resource, ClientID: "bench", ClientSecret: "pw", Client: nil})
	d, err := httpcall.New(httpcall.Config{URL: resource, Method: "POST", Body: []byte(mcpEcho), Header: mcpHeaders, Auth: driver.BearerOf(o), Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	addr := asLn.Addr().String()
	time.AfterFunc(300*time.Millisecond, asCancel) // the issuer goes away after setup
	time.AfterFunc(2800*time.Millisecond, func() { // and comes back on the same address
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("cannot bring the issuer back: %v", err)
			return
		}
		go as.Serve(context.Background(), ln)
	})
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 100), Connections: 2, Duration: 4 * time.Second})
	a := res.Accounting
	if a.ByClass["token"] == 0 {
		t.Errorf("no call failed for want of a token while the issuer was down: %+v", a)
	}
	if a.OK == 0 || res.Intervals[len(res.Intervals)-1].ByClass[bench.OK] == 0 {
		t.Errorf("calls did not recover once the issuer was back: %+v", a)
	}
	if err := a.Check(); err != nil {
		t.Error(err)
	}
}

// resetProxy forwards TCP to target and resets (RST) every connection
// after it has carried `every` bytes from the client.
func resetProxy(t *testing.T, target string, every int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				s, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				go func() { io.Copy(c, s); c.Close() }()
				buf := make([]byte, 4096)
				n := 0
				for {
					k, err := c.Read(buf)
					if k > 0 {
						s.Write(buf[:k])
						n += k
					}
					if err != nil || n >= every {
						break
					}
				}
				c.(*net.TCPConn).SetLinger(0) // close with RST
				c.Close()
				s.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestConnectionResets: connections reset mid-stream give classified
// transport errors, later calls reconnect and succeed, and every call is
// accounted for.
func TestConnectionResets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	addr := resetProxy(t, strings.TrimPrefix(srv.URL, "http://"), 2000) // about 20 requests per connection
	d, err := httpcall.New(httpcall.Config{URL: "http://" + addr + "/", Connections: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 500), Connections: 4, Duration: 2 * time.Second})
	a := res.Accounting
	if a.ByClass["transport"] == 0 || a.OK < a.Scheduled/2 || a.OK+a.Errors+a.InFlight+a.Queued != a.Scheduled {
		t.Errorf("accounting %+v: want some transport errors, most calls OK, all accounted", a)
	}
}
