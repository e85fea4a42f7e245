package null

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serve runs one of the servers on a loopback port until the test ends,
// and checks that it returns nil when told to stop.
func serve(t *testing.T, run func(ctx context.Context, ln net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server returned %v on shutdown", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return ln.Addr().String()
}

func TestHTTP(t *testing.T) {
	addr := serve(t, func(ctx context.Context, ln net.Listener) error {
		return ServeHTTP(ctx, ln, HTTPOptions{MaxBody: 1024})
	})
	for _, tc := range []struct {
		name, method string
		body         string
		status       int
		want         string
	}{
		{"get", "GET", "", 200, "ok\n"},
		{"post", "POST", `{"x":1}`, 200, "ok\n"},
		{"oversized body", "POST", strings.Repeat("x", 2048), 413, ""},
		{"after the oversized body", "GET", "", 200, "ok\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://"+addr+"/any/path", strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || (tc.want != "" && string(b) != tc.want) {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
}

func TestHTTPEcho(t *testing.T) {
	addr := serve(t, func(ctx context.Context, ln net.Listener) error {
		return ServeHTTP(ctx, ln, HTTPOptions{Echo: true})
	})
	body := bytes.Repeat([]byte("abc"), 1000)
	resp, err := http.Post("http://"+addr+"/", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Errorf("%d, %d bytes back; want 200 and the %d bytes sent", resp.StatusCode, len(got), len(body))
	}
}

func TestTCPEcho(t *testing.T) {
	addr := serve(t, ServeTCPEcho)
	for i := 0; i < 3; i++ { // several connections, each echoing in order
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range []string{"a", strings.Repeat("b", 100_000), "end"} {
			go c.Write([]byte(msg))
			got := make([]byte, len(msg))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
				t.Fatalf("echo of %d bytes: %v", len(msg), err)
			}
		}
		c.Close()
	}
}

// TestTCPEchoShutdownClosesConns: stopping the server ends idle
// connections instead of waiting on them forever.
func TestTCPEchoShutdownClosesConns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeTCPEcho(ctx, ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	io.ReadFull(c, make([]byte, 1))
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeTCPEcho = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeTCPEcho did not return with a connection open")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after shutdown")
	}
}

func BenchmarkHTTPHandler(b *testing.B) {
	h := Handler(HTTPOptions{})
	var ctx fastCtx
	b.ReportAllocs()
	for b.Loop() {
		ctx.reset()
		h(&ctx.RequestCtx)
	}
}
