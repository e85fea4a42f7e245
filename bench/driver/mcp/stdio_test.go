package mcp

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
)

func TestMCPStdio(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		modern   bool // calls carry the 2026-07-28 _meta, no initialize
	}{
		{"", false}, {MCP20251125, false}, {MCP20260728, true}, {"auto", true},
	} {
		t.Run("sdk "+tc.protocol, func(t *testing.T) {
			cfg := Config{Transport: "stdio", Command: stdioCommand(t, "sdk"), Protocol: tc.protocol}
			checkCalls(t, cfg)
			d, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			c, err := d.Open(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if modern := strings.Contains(string(c.(*msgConn).call.suffix), `"_meta"`); modern != tc.modern {
				t.Errorf("calls with _meta: %v, want %v", modern, tc.modern)
			}
			c.Close()
		})
	}
}

// TestMCPStdioNoisy: notifications, lines that are not JSON, requests from
// the server and responses to other ids are all skipped.
func TestMCPStdioNoisy(t *testing.T) {
	res := runMCP(t, Config{Transport: "stdio", Command: stdioCommand(t, "noisy")}, 200)
	if a := res.Accounting; a.OK != 200 {
		t.Errorf("accounting %+v", a)
	}
}

// TestMCPStdioCloseUnblocks: Conn.Close ends a call in flight and the
// server with it.
func TestMCPStdioCloseUnblocks(t *testing.T) {
	d, err := New(Config{Transport: "stdio", Command: stdioCommand(t, "sdk"), Tool: "block", Arguments: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Open(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	checkUnblocks(t, c, func() { c.Close() })
	if o := c.Call(time.Now().Add(time.Second)); o.Class != bench.ClassTransport {
		t.Errorf("a call after Close: %+v", o)
	}
}

// TestMCPStdioKills: a server that ignores the end of its input and
// SIGTERM is killed, by Conn.Close and by the driver's Close.
func TestMCPStdioKills(t *testing.T) {
	defer func(g time.Duration) { stdioGrace = g }(stdioGrace)
	stdioGrace = 100 * time.Millisecond
	d, err := New(Config{Transport: "stdio", Command: stdioCommand(t, "stubborn")})
	if err != nil {
		t.Fatal(err)
	}
	var conns []bench.Conn
	for i := range 2 {
		c, err := d.Open(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		if o := c.Call(time.Now().Add(5 * time.Second)); o.Class != bench.OK {
			t.Fatalf("call: %+v", o)
		}
		conns = append(conns, c)
	}
	conns[0].Close()
	d.Close() // returns once both are reaped
	if n := len(d.(*stdioDriver).open); n != 0 {
		t.Errorf("%d servers left", n)
	}
}

// TestMCPStdioServerCPU: the stdio driver reads the CPU time of the
// servers it started (issue 12: stdio variants had no server CPU). It
// grows with calls, and a server that exits keeps its share: the sum
// never goes back, so that a run's difference of two reads is not negative.
func TestMCPStdioServerCPU(t *testing.T) {
	d, err := New(Config{Transport: "stdio", Command: stdioCommand(t, "serve")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, ok := d.(bench.ServerCPUReader)
	if !ok {
		t.Fatal("the stdio driver does not read its servers' CPU time")
	}
	read := func(when string) time.Duration {
		t.Helper()
		cpu, err := r.ServerCPU()
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return cpu
	}
	calls := func(c bench.Conn) {
		t.Helper()
		for range 300 {
			if o := c.Call(time.Now().Add(5 * time.Second)); o.Class != bench.OK {
				t.Fatalf("call: %+v", o)
			}
		}
	}
	var conns []bench.Conn
	for i := range 2 {
		c, err := d.Open(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	opened := read("after Open")
	if opened <= 0 {
		t.Fatalf("two servers started and initialized used %v of CPU", opened)
	}
	calls(conns[0])
	calls(conns[1])
	called := read("after calls")
	if called <= opened {
		t.Errorf("600 calls: server CPU %v, %v before them", called, opened)
	}
	reaped := d.(*stdioDriver).open[conns[0].(*msgConn)]
	conns[0].Close()
	<-reaped
	if exited := read("after a server exited"); exited < called {
		t.Errorf("a server exited and the sum went back: %v, %v before", exited, called)
	} else {
		called = exited
	}
	calls(conns[1])
	if more := read("after more calls"); more <= called {
		t.Errorf("300 more calls on the server left: %v, %v before", more, called)
	} else {
		called = more
	}
	d.Close()
	if closed := read("after Close"); closed < called {
		t.Errorf("after Close: %v, %v before", closed, called)
	}
}

// TestMCPStdioSetupFails: a server that exits at once fails Open with its
// stderr; a timeout bounds a server that never answers.
func TestMCPStdioSetupFails(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		cfg        Config
	}{
		{"exits", "boom", Config{Command: []string{"sh", "-c", "echo boom >&2; exit 3"}}},
		{"no such command", "no-such-mcp-server", Config{Command: []string{"no-such-mcp-server"}}},
		{"never answers", "timeout", Config{Command: []string{"sleep", "60"}, Timeout: 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Transport = "stdio"
			defer func(g time.Duration) { stdioGrace = g }(stdioGrace)
			stdioGrace = 100 * time.Millisecond
			d, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Open(context.Background(), 0); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func BenchmarkMCPStdioEcho(b *testing.B) {
	exe := stdioCommand(b, "sdk")
	for _, protocol := range []string{MCP20251125, MCP20260728} {
		b.Run(protocol, func(b *testing.B) {
			benchConn(b, Config{Transport: "stdio", Command: exe, Protocol: protocol})
		})
	}
}
