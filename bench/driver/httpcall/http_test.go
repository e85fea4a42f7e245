package httpcall

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/benchtest"
	"github.com/mcpbench/mcpbench/bench/driver"
)

// countAtOrAbove counts the histogram's values of at least v.
func countAtOrAbove(h *hdr.Histogram, v int64) int64 {
	var n int64
	for _, b := range h.Distribution() {
		if b.From >= v {
			n += b.Count
		}
	}
	return n
}

// TestStallShowsInResponseTimeNotServiceTime is the method's proof: a server
// that freezes once for 500ms during a constant-rate run. Requests keep
// falling due during the stall; they wait for a worker, and the wait counts.
// So the stall must show in the response-time tail and in the schedule lag,
// while service time (from actual send) shows it only for the few calls that
// were on the wire when the server froze.
func TestStallShowsInResponseTimeNotServiceTime(t *testing.T) { engines(t, testStall) }

// engines runs f on each engine, and on the loop batched (which leaves
// replies in their sockets between batches, timed by the kernel).
func engines(t *testing.T, f func(t *testing.T, engine string, batch time.Duration)) {
	for _, e := range []struct {
		name, engine string
		batch        time.Duration
	}{{bench.EngineWorkers, bench.EngineWorkers, 0}, {bench.EngineLoop, bench.EngineLoop, 0}, {"loop-batched", bench.EngineLoop, time.Millisecond}} {
		t.Run(e.name, func(t *testing.T) { f(t, e.engine, e.batch) })
	}
}

func testStall(t *testing.T, engine string, batch time.Duration) {
	const (
		stall   = 500 * time.Millisecond
		conns   = 8
		stallAt = 300 // the request that freezes the server
	)
	var (
		world sync.Mutex // every request passes through it, like a stop-the-world pause
		seen  atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		world.Lock()
		if seen.Add(1) == stallAt {
			time.Sleep(stall)
		}
		world.Unlock()
		_, _ = io.WriteString(w, "ok\n")
	}))
	defer srv.Close()

	d, err := New(Config{URL: srv.URL + "/", Connections: conns})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := benchtest.MustRun(t, context.Background(), bench.Config{
		Driver: d, Pacer: benchtest.Constant(t, 1000), Duration: 1500 * time.Millisecond, Connections: conns, Engine: engine, Batch: batch,
	})
	if res.Accounting.OK != res.Accounting.Scheduled {
		t.Fatalf("not every call succeeded: %+v", res.Accounting)
	}
	if (res.ReplyTimes == "kernel") != (batch > 0) {
		t.Errorf("reply times %q with a %v window", res.ReplyTimes, batch)
	}
	resp, svc, lag := res.Histograms.Response, res.Histograms.Service, res.Histograms.Lag

	if got := time.Duration(resp.Max()); got < stall*9/10 {
		t.Errorf("response-time max %v: the %v stall is missing from the tail", got, stall)
	}
	if got := time.Duration(lag.Max()); got < stall/2 {
		t.Errorf("schedule-lag max %v: requests due during the stall did not wait", got)
	}
	// Hundreds of requests fell due during the stall: they fill the
	// response-time tail well beyond p99.
	if got := time.Duration(res.Response.P99); got < stall/5 {
		t.Errorf("response-time p99 %v: the stall should dominate the tail", got)
	}
	// Only the calls on the wire when the server froze waited inside it.
	if n := countAtOrAbove(svc, int64(stall/2)); n > conns {
		t.Errorf("%d service times ≥ %v: the stall leaked into the service time of queued requests", n, stall/2)
	}
	if n := countAtOrAbove(resp, int64(stall/2)); n < 100 {
		t.Errorf("only %d response times ≥ %v: queued requests were not charged their wait", n, stall/2)
	}
}

func TestHTTPDriverClassifiesAndCounts(t *testing.T) { engines(t, testClassifiesAndCounts) }

func testClassifiesAndCounts(t *testing.T, engine string, batch time.Duration) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") != "yes" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch n.Add(1) % 3 {
		case 0:
			w.WriteHeader(http.StatusTooManyRequests)
		case 1:
			_, _ = io.WriteString(w, "fine")
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	d, err := New(Config{URL: srv.URL + "/x", Body: []byte(`{"a":1}`), Header: []driver.Header{{Name: "X-Test", Value: "yes"}}, Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Closed: true, Connections: 2, Requests: 299, Engine: engine, Batch: batch})
	a := res.Accounting
	// 300 calls in all with the cold one: a third of each kind.
	if a.OK+a.ByClass["rate_limited"]+a.ByClass["http"] != 299 || a.ByCode["http 503"] == 0 || a.ByCode["rate_limited 429"] == 0 || a.ByCode["http 400"] != 0 {
		t.Fatalf("classes %+v", a)
	}
	if res.BytesRead <= 0 || res.BytesWritten <= 0 || res.BytesPerCall < 100 {
		t.Fatalf("bytes read %d written %d per call %.1f: want headers and bodies counted", res.BytesRead, res.BytesWritten, res.BytesPerCall)
	}
}

func TestHTTPDriverTransportErrors(t *testing.T) { engines(t, testTransportErrors) }

func testTransportErrors(t *testing.T, engine string, batch time.Duration) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	d, err := New(Config{URL: "http://" + addr + "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 500), Requests: 20, Connections: 2, Engine: engine, Batch: batch})
	if got := res.Accounting.ByClass["transport"]; got != 20 {
		t.Fatalf("transport errors %d, want 20: %+v", got, res.Accounting)
	}
}

func TestHTTPConfigErrors(t *testing.T) {
	for _, u := range []string{"", "localhost:80", "ftp://x/", "http://", "http://a b/"} {
		if _, err := New(Config{URL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

func BenchmarkHTTPClosedLoop(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") }))
	defer srv.Close()
	d, err := New(Config{URL: srv.URL + "/", Connections: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ReportAllocs()
	res, err := bench.Run(context.Background(), bench.Config{Driver: d, Closed: true, Connections: 4, Requests: uint64(b.N), Engine: bench.EngineWorkers})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Response.P99), "p99-ns")
	b.ReportMetric(res.GeneratorCPUCall, "gen-cpu-ns/call")
}

// TestLoopFollowsTheServer: on the event loop, a server that closes the
// connection after each reply, or answers chunked, or a server that dies
// mid-run: every call is accounted for, the first two all OK.
func TestLoopFollowsTheServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"connection close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "ok\n")
		}},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "o")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "k\n")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			d, err := New(Config{URL: srv.URL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 1000), Requests: 200, Connections: 4, Engine: bench.EngineLoop})
			if a := res.Accounting; a.OK != 200 {
				t.Fatalf("accounting %+v: want 200 OK", a)
			}
		})
	}
	t.Run("server dies", func(t *testing.T) {
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); _, _ = io.WriteString(w, "ok\n") }))
		d, err := New(Config{URL: srv.URL + "/"})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		time.AfterFunc(150*time.Millisecond, func() { srv.CloseClientConnections(); srv.Close() })
		res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 1000), Requests: 400, Connections: 4, Engine: bench.EngineLoop, Timeout: time.Second})
		a := res.Accounting
		if a.OK < 50 || a.ByClass["transport"] < 100 || a.OK+a.Errors != 400 {
			t.Fatalf("accounting %+v: want the calls before the death OK, the rest transport errors", a)
		}
	})
}
