package tcpecho

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/benchtest"
)

func TestTCPEchoDriver(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	d := &Driver{Addr: ln.Addr().String(), Size: 32}
	defer d.Close()
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 2000), Requests: 200, Connections: 2})
	if res.Accounting.OK != 200 {
		t.Fatalf("%+v", res.Accounting)
	}
	if res.BytesPerCall != 64 {
		t.Fatalf("bytes per call %.1f, want 64 (32 each way)", res.BytesPerCall)
	}
}
