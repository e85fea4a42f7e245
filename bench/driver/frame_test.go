package driver

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

func TestReadFrame(t *testing.T) {
	cases := []struct {
		in     string
		status int
		n      int // bytes taken; 0: incomplete
		close  bool
		err    bool
	}{
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1", status: 200, n: 40},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi"},
		{in: "HTTP/1.1 200 OK\r\nContent-Le"},
		{in: "HTT"},
		{in: "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", status: 429, n: -1, close: true},
		{in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, n: 38, close: true},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", status: 200, n: -1},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n", status: 200, n: -1},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab"},
		{in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, n: 27},
		{in: "garbage\r\n\r\n", err: true},
		{in: "SSH-2.0", err: true},
		{in: "HTTP/1.1 200 OK\r\n\r\n", err: true},                                             // no framing: ends with the connection
		{in: "HTTP/1.1 100 Continue\r\n\r\n", err: true},                                       // interim
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", err: true}, // smuggling
		{in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", err: true},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: true},
	}
	for _, c := range cases {
		if c.n < 0 {
			c.n = len(c.in)
		}
		f, ok, err := ReadFrame([]byte(c.in))
		switch {
		case c.err:
			if err == nil {
				t.Errorf("%q: no error (ok %v, %+v)", c.in, ok, f)
			}
		case err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.n == 0:
			if ok {
				t.Errorf("%q: complete, want more", c.in)
			}
		case !ok || f.Len != c.n || f.Status != c.status || f.Close != c.close:
			t.Errorf("%q: ok %v len %d status %d close %v; want len %d status %d close %v", c.in, ok, f.Len, f.Status, f.Close, c.n, c.status, c.close)
		}
	}
	f, _, _ := ReadFrame([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 2\r\n\r\nhi"))
	if v := HeaderValue(f.Header, "content-type"); string(v) != "text/event-stream" || string(f.Body) != "hi" {
		t.Errorf("header %q body %q", v, f.Body)
	}
}

func TestReadFrameAllocs(t *testing.T) {
	b := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	if n := testing.AllocsPerRun(100, func() { ReadFrame(b) }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

// FuzzReadFrame: a response ReadFrame calls complete is one net/http reads
// the same way: same status, same length, same body.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, ok, err := ReadFrame(b)
		if err != nil || !ok {
			return
		}
		if fr.Len > len(b) {
			t.Fatalf("length %d beyond %d bytes", fr.Len, len(b))
		}
		br := bufio.NewReader(bytes.NewReader(b[:fr.Len]))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("net/http refuses what ReadFrame took: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("net/http cannot read the body: %v", err)
		}
		if resp.StatusCode != fr.Status || br.Buffered() != 0 {
			t.Fatalf("status %d vs %d; %d bytes left over", resp.StatusCode, fr.Status, br.Buffered())
		}
		mine := fr.Body
		if fr.Chunked {
			mine = Dechunk(nil, fr.Body)
		}
		if !bytes.Equal(body, mine) {
			t.Fatalf("body %q vs %q (chunked %v)", body, mine, fr.Chunked)
		}
	})
}

func BenchmarkReadFrame(b *testing.B) {
	buf := []byte("HTTP/1.1 200 OK\r\nServer: fasthttp\r\nDate: Mon, 30 Nov 2026 09:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\nok\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := ReadFrame(buf); !ok || err != nil {
			b.Fatal(err)
		}
	}
}
