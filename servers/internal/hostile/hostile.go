// Package hostile sends every server the input an attacker or a broken
// client would: malformed, truncated and deeply nested JSON, invalid
// UTF-8, forbidden batches, huge bodies, header floods and slow clients.
// Each must be refused cleanly (a 4xx, or the connection closed), the
// server must keep serving, and its goroutines must come back to where
// they were: nothing leaks.
//
//	hostile.Run(t, hostile.Target{URL: url, Headers: h, GoodBody: `{"message":"hi"}`})
package hostile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Target is a server under test, running in this process.
type Target struct {
	// URL is the endpoint to attack (POST).
	URL string
	// GoodBody is a body the server must answer 2xx, POSTed to URL with
	// Headers, before and after each case.
	GoodBody string
	// Good, when set, makes the good request instead (one that needs more
	// than Headers, such as client credentials).
	Good func() *http.Request
	// Headers are added to every hostile POST (Content-Type, Accept, MCP
	// headers…), so that what is tested is the body, not a missing header.
	Headers map[string]string
	// MaxBody is the server's body limit; the huge body is 8× it (default 1 MiB).
	MaxBody int
}

// client makes fresh connections, so that a refused request's connection
// does not linger in a pool.
func client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

func (tg Target) goodRequest() *http.Request {
	if tg.Good != nil {
		return tg.Good()
	}
	r, _ := http.NewRequest("POST", tg.URL, strings.NewReader(tg.GoodBody))
	for k, v := range tg.Headers {
		r.Header.Set(k, v)
	}
	return r
}

func (tg Target) good(t *testing.T, when string) {
	t.Helper()
	resp, err := client().Do(tg.goodRequest())
	if err != nil {
		t.Fatalf("%s: the good request failed: %v", when, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s: the good request got %d %s", when, resp.StatusCode, b)
	}
}

// Run attacks the target with every case, checking each answer and that
// the server still serves; then that its goroutines returned.
func Run(t *testing.T, tg Target) {
	t.Helper()
	if tg.MaxBody == 0 {
		tg.MaxBody = 1 << 20
	}
	tg.good(t, "before")
	settle()
	before := goroutines()

	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObj := strings.Repeat(`{"a":`, 50_000) + "1" + strings.Repeat("}", 50_000)
	for _, c := range []struct{ name, body string }{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":`},
		{"truncated JSON", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x`},
		{"not JSON", "\x00\x01\x02 hello"},
		{"empty body", ``},
		{"deeply nested array", deep},
		{"deeply nested object", deepObj},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"\xff\xfe\xc3\x28\"}}}"},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]`},
		{"huge number", `{"jsonrpc":"2.0","id":1e999999,"method":"tools/list"}`},
		{"huge body", `{"x":"` + strings.Repeat("a", 8*tg.MaxBody) + `"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", tg.URL, strings.NewReader(c.body))
			for k, v := range tg.Headers {
				req.Header.Set(k, v)
			}
			resp, err := client().Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Errorf("%d: a server error for bad input", resp.StatusCode)
				}
			} else if c.name != "huge body" { // closing on a huge body is a clean refusal too
				t.Errorf("no answer: %v", err)
			}
			tg.good(t, "after "+c.name)
		})
	}
	t.Run("header flood", func(t *testing.T) { tg.headerFlood(t) })
	t.Run("slow clients", func(t *testing.T) { tg.slowClients(t) })
	tg.good(t, "at the end")
	noLeak(t, before)
}

// goroutines counts this process's goroutines, leaving out fasthttp's idle
// pool workers: they are bounded by the peak concurrency and end after
// their idle time (10 s by default), so they are not a leak.
func goroutines() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("[chan receive")) && bytes.Contains(g, []byte("fasthttp.(*workerPool).workerFunc")) {
			continue
		}
		n++
	}
	return n
}

func settle() {
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
}

// headerFlood sends one request with 20,000 headers: the server must
// refuse it (4xx) or close, and go on serving.
func (tg Target) headerFlood(t *testing.T) {
	u, _ := url.Parse(tg.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	for i := 0; i < 20_000; i++ {
		fmt.Fprintf(&b, "X-Flood-%d: %s\r\n", i, strings.Repeat("v", 20))
	}
	b.WriteString("Content-Length: 2\r\n\r\n{}")
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go conn.Write(b.Bytes()) // the server may stop reading and close
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err == nil && !strings.Contains(line, " 4") {
		t.Errorf("header flood answered %q", strings.TrimSpace(line))
	}
	tg.good(t, "after the header flood")
}

// slowClients holds 50 half-sent requests open while a good request must
// still be served.
func (tg Target) slowClients(t *testing.T) {
	u, _ := url.Parse(tg.URL)
	var conns []net.Conn
	for i := 0; i < 50; i++ { // half-sent requests, held open
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\n{\"jso", u.RequestURI(), u.Host)
		conns = append(conns, c)
	}
	tg.good(t, "while 50 slow clients hold connections")
	for _, c := range conns {
		c.Close()
	}
}

// noLeak waits until the server's goroutines are back to before (every
// connection is closed now, so theirs end), and fails the test if they
// are not within 5s.
func noLeak(t *testing.T, before int) {
	// Every connection is closed now: the server's goroutines for them end.
	deadline := time.Now().Add(5 * time.Second)
	for {
		settle()
		n := goroutines()
		if n <= before+2 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("goroutines (idle fasthttp workers aside): %d before, %d after; a leak?\n%s", before, n, buf)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}
