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
	for _, engine := range []string{bench.EngineWorkers, bench.EngineLoop} {
		d := &Driver{Addr: ln.Addr().String(), Size: 32}
		res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Pacer: benchtest.Constant(t, 2000), Requests: 200, Connections: 2, Engine: engine})
		d.Close()
		if res.Accounting.OK != 200 || res.Engine != engine {
			t.Fatalf("%s: %+v on %s", engine, res.Accounting, res.Engine)
		}
		if res.BytesPerCall != 64 {
			t.Fatalf("%s: bytes per call %.1f, want 64 (32 each way)", engine, res.BytesPerCall)
		}
	}
}
