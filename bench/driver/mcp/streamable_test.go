package mcp

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/servers/mcp/fast"
	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/valyala/fasthttp"
)

// sdkHTTP serves sdkServer over Streamable HTTP with opts, wrapped by
// wrap when it is given.
func sdkHTTP(t testing.TB, opts *gosdk.StreamableHTTPOptions, wrap func(http.Handler) http.Handler) string {
	s := sdkServer() // one server for every request and session, as in production
	var h http.Handler = gosdk.NewStreamableHTTPHandler(func(*http.Request) *gosdk.Server { return s }, opts)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// fastServer serves the fast MCP server, replying "json" or "sse".
func fastServer(t testing.TB, reply string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fast.Serve(ctx, ln, fast.Options{Reply: reply}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String() + "/mcp"
}

func TestMCPStreamable(t *testing.T) {
	stateless := &gosdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true}
	statelessSSE := &gosdk.StreamableHTTPOptions{Stateless: true}
	stateful := &gosdk.StreamableHTTPOptions{JSONResponse: true}
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
		cfg  Config
	}{
		{"sdk stateless json", func(t *testing.T) string { return sdkHTTP(t, stateless, nil) }, Config{}},
		{"sdk stateless sse", func(t *testing.T) string { return sdkHTTP(t, statelessSSE, nil) }, Config{}},
		{"sdk stateless auto", func(t *testing.T) string { return sdkHTTP(t, stateless, nil) }, Config{Protocol: "auto"}},
		{"sdk stateful json", func(t *testing.T) string { return sdkHTTP(t, stateful, nil) }, Config{Protocol: MCP20251125}},
		{"sdk stateful sse", func(t *testing.T) string { return sdkHTTP(t, nil, nil) }, Config{Protocol: MCP20251125}},
		{"sdk stateful 2025-06-18", func(t *testing.T) string { return sdkHTTP(t, nil, nil) }, Config{Protocol: "2025-06-18"}},
		{"sdk stateful auto", func(t *testing.T) string { return sdkHTTP(t, nil, nil) }, Config{Protocol: "auto"}},
		{"fast json", func(t *testing.T) string { return fastServer(t, "json") }, Config{}},
		{"fast sse", func(t *testing.T) string { return fastServer(t, "sse") }, Config{}},
		{"fast 2025-11-25", func(t *testing.T) string { return fastServer(t, "json") }, Config{Protocol: MCP20251125}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.URL = tc.url(t)
			checkCalls(t, tc.cfg)
		})
	}
}

// TestMCPAutoSettles: auto picks stateless against a stateless server and
// a session protocol against a stateful one, and times server/discover.
func TestMCPAutoSettles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     *gosdk.StreamableHTTPOptions
		stateful bool
	}{
		{"stateless", &gosdk.StreamableHTTPOptions{Stateless: true}, false},
		{"stateful", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Config{URL: sdkHTTP(t, tc.opts, nil), Protocol: "auto"})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			s := d.(*streamable)
			if _, err := s.Open(context.Background(), 0); err == nil {
				t.Error("Open before Prepare with auto worked")
			}
			if err := s.Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s.stateful != tc.stateful || s.SetupPhases()["discover"] <= 0 {
				t.Errorf("stateful %v (version %s), phases %v", s.stateful, s.version, s.SetupPhases())
			}
		})
	}
}

// TestMCPStatelessRejectsStateful: asking a stateful server for
// 2026-07-28 fails in Prepare, saying what the server offers.
func TestMCPStatelessRejectsStateful(t *testing.T) {
	d, err := New(Config{URL: sdkHTTP(t, nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.(bench.Preparer).Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), MCP20251125) {
		t.Errorf("Prepare: %v", err)
	}
}

// recorded is what a recording handler saw of one request.
type recorded struct {
	method string
	header http.Header
	body   string
}

func recorder(mu *sync.Mutex, log *[]recorded) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			*log = append(*log, recorded{r.Method, r.Header.Clone(), string(body)})
			mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			h.ServeHTTP(w, r)
		})
	}
}

// TestMCPStatelessWire: what a stateless call puts on the wire.
func TestMCPStatelessWire(t *testing.T) {
	var mu sync.Mutex
	var log []recorded
	url := sdkHTTP(t, &gosdk.StreamableHTTPOptions{Stateless: true}, recorder(&mu, &log))
	runMCP(t, Config{URL: url, Header: []driver.Header{{Name: "X-Extra", Value: "1"}}}, 10)
	mu.Lock()
	defer mu.Unlock()
	if len(log) != 1+10+1 { // discover, 10 calls, the cold call
		t.Fatalf("%d requests", len(log))
	}
	if h := log[0].header; h.Get("Mcp-Method") != "server/discover" || !strings.Contains(log[0].body, `"method":"server/discover"`) {
		t.Errorf("first request %v %s", h, log[0].body)
	}
	count := map[int64]int{} // how many calls had each id
	for _, r := range log[1:] {
		h := r.header
		want := map[string]string{
			"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
			"Mcp-Protocol-Version": MCP20260728, "Mcp-Method": "tools/call", "Mcp-Name": "echo", "X-Extra": "1",
		}
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("%s: %q, want %q", k, h.Get(k), v)
			}
		}
		if h.Get("Mcp-Session-Id") != "" || r.method != http.MethodPost {
			t.Errorf("%s with session %q", r.method, h.Get("Mcp-Session-Id"))
		}
		var body struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatal(err)
		}
		count[body.ID]++
	}
	// Each of the 4 connections counts its ids from 1: id k+1 is used no
	// more often than id k.
	if count[1] < 1 || count[1] > 4 {
		t.Errorf("ids %v: want 1 to 4 connections starting at 1", count)
	}
	for id, n := range count {
		if id > 1 && n > count[id-1] {
			t.Errorf("ids %v: id %d used more often than %d", count, id, id-1)
		}
	}
}

// TestMCPSessionLost: a server that forgets a session (404) gets a new
// initialize, and the call goes through; Close deletes each session.
func TestMCPSessionLost(t *testing.T) {
	var calls, lost, deletes atomic.Int64
	url := sdkHTTP(t, &gosdk.StreamableHTTPOptions{JSONResponse: true}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete && r.Header.Get("Mcp-Session-Id") != "" {
				deletes.Add(1)
			}
			if r.Header.Get("Mcp-Session-Id") != "" && r.Method == http.MethodPost && calls.Add(1) == 20 {
				lost.Add(1)
				http.Error(w, "session not found", http.StatusNotFound)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	res := runMCP(t, Config{URL: url, Protocol: MCP20251125}, 50)
	// The workers start a session again within the call; the event loop
	// counts the call's 404 and gives the connection a new session.
	a, want := res.Accounting, uint64(50)
	if res.Engine == bench.EngineLoop {
		want = 49
	}
	if lost.Load() != 1 || a.OK != want || a.OK+a.ByCode["http 404"] != 50 {
		t.Errorf("lost %d sessions; accounting %+v on %s", lost.Load(), a, res.Engine)
	}
	if deletes.Load() < 4 {
		t.Errorf("%d sessions deleted, want every one of the 4 or 5", deletes.Load())
	}
}

// TestMCPHTTPStatuses: 429 is rate-limited, other statuses are HTTP
// errors, a JSON-RPC error in a 4xx is a protocol error, a broken body
// is a transport error.
func TestMCPHTTPStatuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		want   bench.Outcome
	}{
		{"429", 429, "text/plain", "slow down", bench.Outcome{Class: bench.ClassRateLimited, Code: 429}},
		{"503", 503, "text/plain", "down", bench.Outcome{Class: bench.ClassHTTP, Code: 503}},
		{"401", 401, "text/plain", "", bench.Outcome{Class: bench.ClassHTTP, Code: 401}},
		{"JSON-RPC error in a 400", 400, "application/json", `{"jsonrpc":"2.0","id":1,"error":{"code":-32020,"message":"header mismatch"}}`, bench.Outcome{Class: bench.ClassProtocol, Code: -32020}},
		{"broken JSON", 200, "application/json", `{"jsonrpc":"2.0","id":1,"res`, bench.Outcome{Class: bench.ClassTransport}},
		{"wrong id", 200, "application/json", `{"jsonrpc":"2.0","id":77,"result":{}}`, bench.Outcome{Class: bench.ClassTransport}},
		{"SSE without our response", 200, "text/event-stream", "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n", bench.Outcome{Class: bench.ClassTransport}},
		{"SSE, CRLF, after a notification", 200, "text/event-stream", "data: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n\r\n: keep-alive\r\nid: 5\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":1,\"result\":{}}\r\n\r\n", bench.Outcome{Class: bench.OK}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			d, err := New(Config{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			c, err := d.Open(context.Background(), 0) // no Prepare: no discover
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if o := c.Call(time.Now().Add(5 * time.Second)); o != tc.want {
				t.Errorf("outcome %+v, want %+v", o, tc.want)
			}
		})
	}
}

// TestMCPTimeout: a call past its deadline is a timeout, and the Conn
// carries on.
func TestMCPTimeout(t *testing.T) {
	d, err := New(Config{URL: sdkHTTP(t, &gosdk.StreamableHTTPOptions{Stateless: true}, nil), Tool: "block", Arguments: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Open(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if o := c.Call(time.Now().Add(100 * time.Millisecond)); o.Class != bench.ClassTimeout {
		t.Errorf("outcome %+v", o)
	}
	// The connection recovers: the next call, given time, goes through.
	if o := c.Call(time.Now().Add(blockFor + 5*time.Second)); o.Class != bench.OK {
		t.Errorf("the call after a timeout: %+v", o)
	}
}

// TestMCPCloseUnblocks: Conn.Close, and the driver's Close, end a call
// stuck on a server that never answers.
func TestMCPCloseUnblocks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		protocol string
		driver   bool // close the driver, not the Conn
	}{
		{"stateless, Conn.Close", MCP20260728, false},
		{"session, Conn.Close", MCP20251125, false},
		{"stateless, driver Close", MCP20260728, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Config{URL: sdkHTTP(t, &gosdk.StreamableHTTPOptions{Stateless: tc.protocol == MCP20260728}, nil),
				Protocol: tc.protocol, Tool: "block", Arguments: json.RawMessage(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			c, err := d.Open(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			checkUnblocks(t, c, func() {
				if tc.driver {
					d.Close()
				} else {
					c.Close()
				}
			})
		})
	}
}

// checkUnblocks starts a call on c, then closes, and wants the call to
// return a transport error soon.
func checkUnblocks(t *testing.T, c bench.Conn, closeIt func()) {
	t.Helper()
	got := make(chan bench.Outcome, 1)
	go func() { got <- c.Call(time.Now().Add(time.Minute)) }()
	time.Sleep(150 * time.Millisecond)
	select {
	case o := <-got:
		t.Fatalf("the call returned before Close: %+v", o)
	default:
	}
	closeIt()
	select {
	case o := <-got:
		if o.Class != bench.ClassTransport {
			t.Errorf("outcome %+v, want a transport error", o)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the blocked call")
	}
	c.Close()
}

func benchConn(b *testing.B, cfg Config) {
	d, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if p, ok := d.(bench.Preparer); ok {
		if err := p.Prepare(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	c, err := d.Open(context.Background(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		if o := c.Call(time.Now().Add(5 * time.Second)); o.Class != bench.OK {
			b.Fatal(o)
		}
	}
	r, w := d.(bench.ByteCounter).Bytes()
	b.ReportMetric(float64(r+w)/float64(b.N), "wire-B/call")
}

func BenchmarkMCPStatelessEcho(b *testing.B) {
	b.Run("sdk-json", func(b *testing.B) {
		benchConn(b, Config{URL: sdkHTTP(b, &gosdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true}, nil)})
	})
	b.Run("sdk-sse", func(b *testing.B) {
		benchConn(b, Config{URL: sdkHTTP(b, &gosdk.StreamableHTTPOptions{Stateless: true}, nil)})
	})
	b.Run("fast-json", func(b *testing.B) { benchConn(b, Config{URL: fastServer(b, "json")}) })
	b.Run("fast-sse", func(b *testing.B) { benchConn(b, Config{URL: fastServer(b, "sse")}) })
}

func BenchmarkMCPSessionEcho(b *testing.B) {
	b.Run("sdk-json", func(b *testing.B) {
		benchConn(b, Config{URL: sdkHTTP(b, &gosdk.StreamableHTTPOptions{JSONResponse: true}, nil), Protocol: MCP20251125})
	})
	b.Run("sdk-sse", func(b *testing.B) {
		benchConn(b, Config{URL: sdkHTTP(b, nil, nil), Protocol: MCP20251125})
	})
}

// BenchmarkMCPCallOnly is the driver's own cost per call: a canned
// reply from a fasthttp server that does no MCP work.
func BenchmarkMCPCallOnly(b *testing.B) {
	b.Run("json", func(b *testing.B) { benchConn(b, Config{URL: cannedServer(b, false)}) })
	b.Run("sse", func(b *testing.B) { benchConn(b, Config{URL: cannedServer(b, true)}) })
}

// TestMCPStreamAllocs: the event loop's MCP call path — the request's
// bytes, the reply's framing and classification — makes no allocation
// once warm, for JSON and SSE replies.
func TestMCPStreamAllocs(t *testing.T) {
	for _, sse := range []bool{false, true} {
		d, err := New(Config{URL: cannedServer(t, sse)})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.(bench.Preparer).Prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, err := d.(bench.StreamDriver).OpenStream(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		out, in := make([]byte, 0, 4096), make([]byte, 16<<10)
		call := func() {
			var o bench.Outcome
			out, o = st.Request(out[:0])
			if o.Class != bench.OK {
				t.Fatalf("request: %v", o)
			}
			if _, err := unix.Write(st.Fd(), out); err != nil {
				t.Fatal(err)
			}
			for n := 0; ; {
				fds := []unix.PollFd{{Fd: int32(st.Fd()), Events: unix.POLLIN}}
				unix.Poll(fds, 1000)
				m, err := unix.Read(st.Fd(), in[n:])
				if err == unix.EAGAIN {
					continue
				}
				if err != nil || m == 0 {
					t.Fatalf("read: %v", err)
				}
				n += m
				if k, o, _ := st.Reply(in[:n]); k != 0 {
					if k != n || o.Class != bench.OK {
						t.Fatalf("reply: %d of %d bytes, %v", k, n, o)
					}
					return
				}
			}
		}
		call()
		if n := testing.AllocsPerRun(200, call); n != 0 {
			t.Errorf("sse %v: %v allocations per call", sse, n)
		}
	}
}

// cannedServer answers every request with a result to its id, in JSON or
// as an SSE event.
func cannedServer(tb testing.TB, sse bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		var m rpcMsg
		scanMsg(ctx.PostBody(), &m)
		if sse {
			ctx.SetContentType("text/event-stream")
			ctx.Response.AppendBodyString("event: message\ndata: ")
		} else {
			ctx.SetContentType("application/json")
		}
		ctx.Response.AppendBodyString(`{"jsonrpc":"2.0","id":`)
		ctx.Response.AppendBody(m.id)
		ctx.Response.AppendBodyString(`,"result":{"supportedVersions":["2026-07-28"],"content":[{"type":"text","text":"hello"}]}}`)
		if sse {
			ctx.Response.AppendBodyString("\n\n")
		}
	}}
	go s.Serve(ln)
	tb.Cleanup(func() { s.Shutdown() })
	return "http://" + ln.Addr().String() + "/mcp"
}

// switchingToken hands out "t1", then "t2" from its 10th call on.
type switchingToken struct{ n atomic.Int64 }

func (s *switchingToken) Token(context.Context) (string, error) {
	if s.n.Add(1) >= 10 {
		return "t2", nil
	}
	return "t1", nil
}

// TestMCPToken: every request carries the token source's current token,
// on each HTTP transport.
func TestMCPToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		url  func(wrap func(http.Handler) http.Handler) string
	}{
		{"stateless", Config{}, func(w func(http.Handler) http.Handler) string {
			return sdkHTTP(t, &gosdk.StreamableHTTPOptions{Stateless: true}, w)
		}},
		{"session", Config{Protocol: MCP20251125}, func(w func(http.Handler) http.Handler) string { return sdkHTTP(t, nil, w) }},
		{"legacy", Config{Transport: "sse"}, func(w func(http.Handler) http.Handler) string {
			srv := httptest.NewServer(w(gosdk.NewSSEHandler(func(*http.Request) *gosdk.Server { return sdkServer() }, nil)))
			t.Cleanup(srv.Close)
			return srv.URL
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]int{}
			tc.cfg.URL = tc.url(func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					seen[r.Method+" "+r.Header.Get("Authorization")]++
					mu.Unlock()
					h.ServeHTTP(w, r)
				})
			})
			tc.cfg.Auth = driver.BearerOf(&switchingToken{})
			runMCP(t, tc.cfg, 40)
			mu.Lock()
			defer mu.Unlock()
			for k := range seen {
				if !strings.HasSuffix(k, " Bearer t1") && !strings.HasSuffix(k, " Bearer t2") {
					t.Errorf("a request with %q", k)
				}
			}
			if seen["POST Bearer t2"] < 30 {
				t.Errorf("requests by method and token: %v", seen)
			}
		})
	}
}
