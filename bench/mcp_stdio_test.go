package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestMCPStdio(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		modern   bool // calls carry the 2026-07-28 _meta, no initialize
	}{
		{"", false}, {MCP20251125, false}, {MCP20260728, true}, {"auto", true},
	} {
		t.Run("sdk "+tc.protocol, func(t *testing.T) {
			cfg := MCPConfig{Transport: "stdio", Command: stdioCommand(t, "sdk"), Protocol: tc.protocol}
			checkCalls(t, cfg)
			d, err := NewMCP(cfg)
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
	res := runMCP(t, MCPConfig{Transport: "stdio", Command: stdioCommand(t, "noisy")}, 200)
	if a := res.Accounting; a.OK != 200 {
		t.Errorf("accounting %+v", a)
	}
}

// TestMCPStdioCloseUnblocks: Conn.Close ends a call in flight and the
// server with it.
func TestMCPStdioCloseUnblocks(t *testing.T) {
	d, err := NewMCP(MCPConfig{Transport: "stdio", Command: stdioCommand(t, "sdk"), Tool: "block", Arguments: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Open(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	checkUnblocks(t, c, func() { c.Close() })
	if o := c.Call(time.Now().Add(time.Second)); o.Class != ErrTransport {
		t.Errorf("a call after Close: %+v", o)
	}
}

// TestMCPStdioKills: a server that ignores the end of its input and
// SIGTERM is killed, by Conn.Close and by the driver's Close.
func TestMCPStdioKills(t *testing.T) {
	defer func(g time.Duration) { stdioGrace = g }(stdioGrace)
	stdioGrace = 100 * time.Millisecond
	d, err := NewMCP(MCPConfig{Transport: "stdio", Command: stdioCommand(t, "stubborn")})
	if err != nil {
		t.Fatal(err)
	}
	var conns []Conn
	for i := range 2 {
		c, err := d.Open(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		if o := c.Call(time.Now().Add(5 * time.Second)); o.Class != OK {
			t.Fatalf("call: %+v", o)
		}
		conns = append(conns, c)
	}
	conns[0].Close()
	d.Close() // returns once both are reaped
	if n := len(d.(*stdio).open); n != 0 {
		t.Errorf("%d servers left", n)
	}
}

// TestMCPStdioSetupFails: a server that exits at once fails Open with its
// stderr; a timeout bounds a server that never answers.
func TestMCPStdioSetupFails(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		cfg        MCPConfig
	}{
		{"exits", "boom", MCPConfig{Command: []string{"sh", "-c", "echo boom >&2; exit 3"}}},
		{"no such command", "no-such-mcp-server", MCPConfig{Command: []string{"no-such-mcp-server"}}},
		{"never answers", "timeout", MCPConfig{Command: []string{"sleep", "60"}, Timeout: 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Transport = "stdio"
			defer func(g time.Duration) { stdioGrace = g }(stdioGrace)
			stdioGrace = 100 * time.Millisecond
			d, err := NewMCP(tc.cfg)
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
			benchConn(b, MCPConfig{Transport: "stdio", Command: exe, Protocol: protocol})
		})
	}
}
