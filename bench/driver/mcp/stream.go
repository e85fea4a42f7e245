package mcp

import (
	"bytes"
	"context"
	"fmt"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"golang.org/x/sys/unix"
)

// Streamable HTTP on the event loop. Setup (discover, a session's
// initialize) runs on the blocking path, as for the workers; each stream
// then has a socket of its own on which the loop writes tools/call
// requests and frames their replies, JSON or SSE.

var _ bench.StreamDriver = (*streamable)(nil)

// Streamable says whether the calls can run on the event loop: plain HTTP
// over kept-alive connections can; HTTPS needs the workers' TLS client,
// a new connection per call their dialing client, and HTTP/2 net/http's.
func (d *streamable) Streamable() bool { return !d.tls && !d.cfg.NewConnPerCall && !d.cfg.HTTP2 }

// OpenStream prepares one connection: with sessions, a session of its own
// (initialize on the driver's blocking path), then its own socket.
func (d *streamable) OpenStream(ctx context.Context, conn int) (bench.Stream, error) {
	bc, err := d.Open(ctx, conn)
	if err != nil {
		return nil, err
	}
	c := bc.(*streamConn)
	c.detach()
	s := &mcpStream{d: d, c: c}
	headers := []driver.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Accept", Value: "application/json, text/event-stream"},
		{Name: "User-Agent", Value: "mcpbench"}}
	if d.stateful {
		headers = append(headers, driver.Header{Name: "MCP-Protocol-Version", Value: c.version}, driver.Header{Name: "Mcp-Session-Id", Value: c.session})
	} else {
		headers = append(headers, driver.Header{Name: "MCP-Protocol-Version", Value: MCP20260728},
			driver.Header{Name: "Mcp-Method", Value: "tools/call"}, driver.Header{Name: "Mcp-Name", Value: d.cfg.Tool})
	}
	if s.q, err = driver.NewRawRequest("POST", d.cfg.URL, append(headers, d.cfg.Header...), nil); err != nil {
		_ = c.Close()
		return nil, err
	}
	if s.fd, err = driver.DialSocket(ctx, d.addr, d.cfg.Timeout); err != nil {
		_ = c.Close()
		return nil, err
	}
	s.reply.init()
	return s, nil
}

// detach lets go of the connection Open made: a stream calls on a socket
// of its own, and keeps the conn for its session (Close deletes it).
func (c *streamConn) detach() {
	c.wire.CloseAll()
	c.cl.CloseIdleConnections()
}

// mcpStream is one event-loop connection of the Streamable HTTP driver.
type mcpStream struct {
	d     *streamable
	c     *streamConn // the session, if any
	fd    int
	q     *driver.RawRequest
	id    int64
	body  []byte
	data  []byte // a chunked reply's body, de-chunked
	reply replyReader
}

func (s *mcpStream) Fd() int { return s.fd }

func (s *mcpStream) Request(dst []byte) ([]byte, bench.Outcome) {
	if s.d.cfg.Auth != nil && s.d.cfg.Auth.Authorize(context.Background(), s.q) != nil {
		return dst, bench.Outcome{Class: bench.ClassToken}
	}
	s.id++
	s.body = s.d.call.append(s.body[:0], s.id)
	s.q.SetBody(s.body)
	return s.q.AppendTo(dst), bench.Outcome{}
}

// Reply classifies a complete reply as the workers' driver does, but for
// one thing: a session the server has forgotten (404) is not started
// again within the call; the connection is replaced, with a new session.
func (s *mcpStream) Reply(buf []byte) (int, bench.Outcome, bool) {
	f, ok, err := driver.ReadFrame(buf)
	if err != nil {
		return -1, bench.Outcome{}, false
	}
	if !ok {
		return 0, bench.Outcome{}, true
	}
	if s.d.stateful {
		s.follow(f.Header)
	}
	if s.d.nonces {
		// The server's DPoP nonce: the calls that follow carry it (a call
		// refused for want of it is not made again on the loop).
		driver.TakeNonce(s.d.cfg.Auth, driver.HeaderValue(f.Header, "DPoP-Nonce"))
	}
	switch {
	case f.Status == 429:
		return f.Len, bench.Outcome{Class: bench.ClassRateLimited, Code: f.Status}, !f.Close
	case f.Status == 404 && s.d.stateful:
		s.d.lost.Add(1)
		return f.Len, bench.Outcome{Class: bench.ClassHTTP, Code: f.Status}, false
	}
	body := f.Body
	if f.Chunked {
		s.data = driver.Dechunk(s.data[:0], body)
		body = s.data
	}
	o, found := s.read(f.Header, body)
	switch {
	case f.Status >= 200 && f.Status < 300:
		if !found {
			o = bench.Outcome{Class: bench.ClassTransport}
		}
	case found && o.Class == bench.ClassProtocol: // 2026-07-28 errors come in 4xx and 5xx too
	default:
		o = bench.Outcome{Class: bench.ClassHTTP, Code: f.Status}
	}
	return f.Len, o, !f.Close
}

// follow adopts a session id the server moved the session to.
func (s *mcpStream) follow(header []byte) {
	sid := driver.HeaderValue(header, "Mcp-Session-Id")
	if sid == nil || string(sid) == s.c.session {
		return
	}
	s.c.mu.Lock()
	s.c.session = string(sid)
	s.c.mu.Unlock()
	s.q.SetHeader("Mcp-Session-Id", s.c.session)
}

// read finds the JSON-RPC response to the call in a reply's body.
func (s *mcpStream) read(header, body []byte) (bench.Outcome, bool) {
	ct := driver.HeaderValue(header, "Content-Type")
	return s.reply.read(body, len(ct) >= 17 && bytes.EqualFold(ct[:17], []byte("text/event-stream")), s.id)
}

// Close closes the socket, then ends the session, if any (a DELETE).
func (s *mcpStream) Close() error {
	err := unix.Close(s.fd)
	if cerr := s.c.Close(); cerr != nil {
		return fmt.Errorf("%w (socket: %v)", cerr, err)
	}
	return err
}
