package sdk

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// serve runs ServeHTTP on a loopback socket; stop cancels it and returns
// what ServeHTTP returned.
func serve(t *testing.T, opts Options) (url string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeHTTP(ctx, ln, opts) }()
	var once bool
	var result error
	stop = func() error {
		if !once {
			once = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				result = errors.New("ServeHTTP did not return")
			}
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

// A graceful stop must end the long-lived GET streams (legacy SSE session,
// stateful standalone stream) instead of waiting out the grace period and
// failing.
func TestServeHTTPStops(t *testing.T) {
	for _, m := range modes {
		if m.stdio {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			url, stop := serve(t, m.opts)
			var transport mcp.Transport = &mcp.StreamableClientTransport{Endpoint: url + "/mcp", MaxRetries: -1}
			if m.opts.Transport == "sse" {
				transport = &mcp.SSEClientTransport{Endpoint: url + "/mcp"}
			}
			ctx := context.Background()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, transport, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if text, _, err := call(ctx, cs, "echo", `{"message":"over a socket"}`); err != nil || text != "over a socket" {
				t.Fatalf("echo = %q, %v", text, err)
			}
			// The session (and its GET stream, if any) is still open.
			if err := stop(); err != nil {
				t.Errorf("ServeHTTP: %v", err)
			}
		})
	}
}

func TestServeHTTPLimits(t *testing.T) {
	url, stop := serve(t, Options{MaxBody: 512})
	cases := []struct {
		name, path, body string
		want             int
	}{
		{"good call", "/mcp", goodCall().body, 200},
		{"body above MaxBody", "/mcp", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{` + meta + `,"name":"echo","arguments":{"message":"` + strings.Repeat("x", 512) + `"}}}`, 413},
		{"other path", "/", goodCall().body, 404},
		{"other path below /mcp", "/mcp/x", goodCall().body, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := goodCall()
			r.body = c.body
			got, body := do(t, http.DefaultClient, url+c.path, r)
			if got.status != c.want {
				t.Errorf("%d, want %d; body %.200q", got.status, c.want, body)
			}
		})
	}
	if err := stop(); err != nil {
		t.Errorf("ServeHTTP: %v", err)
	}
}

func TestServeHTTPBadOptions(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = ServeHTTP(context.Background(), ln, Options{Transport: "sse", Reply: "sse"})
	if !errors.Is(err, ErrBadOptions) {
		t.Errorf("ServeHTTP = %v, want ErrBadOptions", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener not closed: Accept = %v", err)
	}
}

// ServeStdio returns nil when its context ends, even while its input stays
// open (the read is abandoned, as the SDK does for stdin).
func TestServeStdioCancel(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeStdio(ctx, struct{ io.Reader }{inR}, io.Discard) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeStdio = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ServeStdio did not return after its context ended")
	}
}

// continueConn is a client connection that reports when the server sends
// "100 Continue": the server does so when a handler first reads the body
// of a request sent with "Expect: 100-continue", so the call is in flight.
type continueConn struct {
	net.Conn
	started chan struct{}
	once    sync.Once
}

func (c *continueConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if strings.Contains(string(p[:n]), " 100 Continue") {
		c.once.Do(func() { close(c.started) })
	}
	return n, err
}

// A call in flight when the context ends still gets its answer.
func TestServeHTTPFinishesInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- ServeHTTP(ctx, ln, Options{}) }()

	started := make(chan struct{})
	client := &http.Client{Transport: &http.Transport{
		ExpectContinueTimeout: time.Minute,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &continueConn{Conn: c, started: started}, nil
		},
	}}
	r := goodCall()
	r.header.Set("Mcp-Name", "sleep")
	r.header.Set("Expect", "100-continue")
	req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/mcp",
		strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{`+meta+`,"name":"sleep","arguments":{"ms":300}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.header
	type result struct {
		status int
		body   string
		err    error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- result{resp.StatusCode, string(body), err}
	}()
	select {
	case <-started:
	case res := <-answered:
		t.Fatalf("answered before the server asked for the body: %+v", res)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("ServeHTTP: %v", err)
	}
	res := <-answered
	if res.err != nil || res.status != 200 || !strings.Contains(res.body, "slept 300 ms") {
		t.Errorf("in-flight call: %d %q %v", res.status, res.body, res.err)
	}
}
