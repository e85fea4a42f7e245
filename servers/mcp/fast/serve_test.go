package fast

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"
)

func TestServeLifecycle(t *testing.T) {
	t.Run("bad options", func(t *testing.T) {
		if err := Serve(context.Background(), fasthttputil.NewInmemoryListener(), Options{Reply: "xml"}); err == nil {
			t.Fatal("Serve accepted Reply xml")
		}
	})
	t.Run("context already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, fasthttputil.NewInmemoryListener(), Options{}) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return")
		}
	})
	t.Run("in-flight call is answered", func(t *testing.T) {
		ln := fasthttputil.NewInmemoryListener()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, ln, Options{}) }()
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":30000}}}`
		c, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: */*\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		time.Sleep(50 * time.Millisecond) // let the call start
		cancel()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, _ := io.ReadAll(bufio.NewReader(c))
		if !strings.HasPrefix(string(resp), "HTTP/1.1 200") || !strings.Contains(string(resp), `"code":-32603`) {
			t.Errorf("in-flight sleep answered %q; want 200 with a cancellation error", resp)
		}
		if err := <-done; err != nil {
			t.Fatalf("Serve: %v", err)
		}
	})
	t.Run("unreadable HTTP", func(t *testing.T) {
		ln := fasthttputil.NewInmemoryListener()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go Serve(ctx, ln, Options{})
		c, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, _ := io.ReadAll(bufio.NewReader(c))
		if !strings.HasPrefix(string(resp), "HTTP/1.1 400") || !strings.Contains(string(resp), `"code":-32600`) {
			t.Errorf("got %q; want 400 with a JSON-RPC error", resp)
		}
	})
}
