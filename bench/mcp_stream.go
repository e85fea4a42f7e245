package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// msgConn is a connection that carries JSON-RPC messages one way and
// replies the other (a stdio pipe pair, or a legacy SSE stream with its
// POST endpoint). One reader goroutine hands responses to the waiting call.
type msgConn struct {
	send    func(msg []byte) error
	replies chan rpcReply
	done    chan struct{} // closed when the reader ends
	err     error         // why it ended
	id      int64
	body    []byte
	closeFn func() error
	once    sync.Once
}

// deliver is the reader's side: a response goes to the waiting call; the
// server's own requests and notifications are skipped.
func (c *msgConn) deliver(data []byte) {
	var r rpcReply
	if json.Unmarshal(data, &r) != nil || r.Method != "" {
		return
	}
	select {
	case c.replies <- r:
	case <-c.done:
	}
}

// roundTrip sends msg and waits for the response with id.
func (c *msgConn) roundTrip(msg []byte, id int64, deadline time.Time) (*rpcReply, Outcome) {
	if err := c.send(msg); err != nil {
		return nil, Outcome{Class: ErrTransport}
	}
	want := strconv.FormatInt(id, 10)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		select {
		case r := <-c.replies:
			if string(r.ID) != want {
				continue // a late reply to a call that timed out
			}
			return &r, Outcome{Class: OK}
		case <-c.done:
			return nil, Outcome{Class: ErrTransport}
		case <-t.C:
			return nil, Outcome{Class: ErrTimeout}
		}
	}
}

func (c *msgConn) handshake(ctx context.Context, version string) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	r, o := c.roundTrip(initializeBody(version), 0, deadline)
	if o.Class != OK {
		return fmt.Errorf("initialize: %v (%v)", o.Class, c.err)
	}
	if r.Error != nil {
		return fmt.Errorf("initialize: JSON-RPC error %d %s", r.Error.Code, r.Error.Message)
	}
	return c.send(initializedNote)
}

func (c *msgConn) call(tool string, args json.RawMessage, deadline time.Time) Outcome {
	c.id++
	c.body = callBody(c.body[:0], c.id, tool, args, false)
	r, o := c.roundTrip(c.body, c.id, deadline)
	if o.Class != OK {
		return o
	}
	return outcomeOf(r)
}

// Close ends the connection; a blocked call returns.
func (c *msgConn) Close() error {
	var err error
	c.once.Do(func() { err = c.closeFn() })
	return err
}

// stdio runs one server process per connection and speaks
// newline-delimited JSON-RPC on its stdin and stdout.
type stdio struct {
	cfg         MCPConfig
	read, wrote atomic.Int64
	mu          sync.Mutex
	procs       []*exec.Cmd
}

var (
	_ Driver      = (*stdio)(nil)
	_ ByteCounter = (*stdio)(nil)
)

func newStdio(cfg MCPConfig) (*stdio, error) {
	if len(cfg.Command) == 0 {
		return nil, fmt.Errorf("%w: a stdio MCP driver needs the server's command", ErrConfig)
	}
	if cfg.Token != nil {
		return nil, fmt.Errorf("%w: stdio carries no OAuth (the MCP authorization spec is for HTTP)", ErrConfig)
	}
	if cfg.Protocol == "" || cfg.Protocol == "auto" || cfg.Protocol == MCP20260728 {
		cfg.Protocol = MCP20251125
	}
	return &stdio{cfg: cfg}, nil
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Open starts a server process and initializes it.
func (d *stdio) Open(ctx context.Context, worker int) (Conn, error) {
	cmd := exec.Command(d.cfg.Command[0], d.cfg.Command[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = io.Discard
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", d.cfg.Command[0], err)
	}
	d.mu.Lock()
	d.procs = append(d.procs, cmd)
	d.mu.Unlock()
	w := bufio.NewWriter(countingWriter{stdin, &d.wrote})
	c := &msgConn{replies: make(chan rpcReply, 1), done: make(chan struct{})}
	var wmu sync.Mutex
	c.send = func(msg []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		w.Write(msg)
		w.WriteByte('\n')
		return w.Flush()
	}
	waited := make(chan struct{})
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			d.read.Add(int64(len(sc.Bytes()) + 1))
			c.deliver(sc.Bytes())
		}
		c.err = sc.Err()
		if c.err == nil {
			c.err = io.EOF
		}
	}()
	go func() { cmd.Wait(); close(waited) }()
	c.closeFn = func() error {
		stdin.Close()
		select {
		case <-waited:
		case <-time.After(2 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-waited:
			case <-time.After(2 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-waited
			}
		}
		return nil
	}
	if err := c.handshake(ctx, d.cfg.Protocol); err != nil {
		c.Close()
		return nil, err
	}
	return &stdioConn{c: c, d: d}, nil
}

type stdioConn struct {
	c *msgConn
	d *stdio
}

func (s *stdioConn) Call(deadline time.Time) Outcome {
	return s.c.call(s.d.cfg.Tool, s.d.cfg.Arguments, deadline)
}
func (s *stdioConn) Close() error { return s.c.Close() }

// Bytes counts what crossed the pipes.
func (d *stdio) Bytes() (read, written int64) { return d.read.Load(), d.wrote.Load() }

// Close kills what is still running.
func (d *stdio) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.procs {
		if p.ProcessState == nil && p.Process != nil {
			syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		}
	}
	d.procs = nil
	return nil
}

// legacySSE speaks the 2024-11-05 HTTP+SSE transport: a GET event stream
// per connection, whose first event names the endpoint to POST messages to.
type legacySSE struct {
	cfg    MCPConfig
	client *http.Client
	wire   wireCounter
}

var (
	_ Driver      = (*legacySSE)(nil)
	_ ByteCounter = (*legacySSE)(nil)
)

func newLegacySSE(cfg MCPConfig) (*legacySSE, error) {
	if _, err := url.Parse(cfg.URL); err != nil || cfg.URL == "" {
		return nil, fmt.Errorf("%w: legacy SSE URL %q", ErrConfig, cfg.URL)
	}
	if cfg.Protocol == "" || cfg.Protocol == "auto" || cfg.Protocol == MCP20260728 {
		cfg.Protocol = "2024-11-05"
	}
	d := &legacySSE{cfg: cfg}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	d.client = &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.Connections * 2, MaxConnsPerHost: cfg.Connections * 2, IdleConnTimeout: time.Minute,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return d.wire.wrap(c), nil
		},
	}}
	return d, nil
}

func (d *legacySSE) header(h http.Header, ctx context.Context) error {
	for _, x := range d.cfg.Header {
		h.Set(x.Name, x.Value)
	}
	if d.cfg.Token != nil {
		tok, err := d.cfg.Token.Token(ctx)
		if err != nil {
			return err
		}
		h.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// Open opens the event stream, reads the endpoint, and initializes.
func (d *legacySSE) Open(ctx context.Context, worker int) (Conn, error) {
	sctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(sctx, "GET", d.cfg.URL, nil)
	req.Header.Set("Accept", "text/event-stream")
	if err := d.header(req.Header, ctx); err != nil {
		cancel()
		return nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("GET %s: %d", d.cfg.URL, resp.StatusCode)
	}
	c := &msgConn{replies: make(chan rpcReply, 1), done: make(chan struct{})}
	endpoint := make(chan string, 1)
	go func() {
		defer close(c.done)
		p := SSEParser{OnEvent: func(e SSEEvent) {
			switch e.Event {
			case "endpoint":
				select {
				case endpoint <- string(e.Data):
				default:
				}
			case "message":
				c.deliver(e.Data)
			}
		}}
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			p.Feed(buf[:n])
			if err != nil {
				c.err = err
				return
			}
		}
	}()
	c.closeFn = func() error { cancel(); return resp.Body.Close() }
	var post string
	select {
	case e := <-endpoint:
		base, _ := url.Parse(d.cfg.URL)
		u, err := base.Parse(e)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("endpoint event %q: %v", e, err)
		}
		post = u.String()
	case <-c.done:
		c.Close()
		return nil, fmt.Errorf("the event stream ended before its endpoint event: %v", c.err)
	case <-time.After(10 * time.Second):
		c.Close()
		return nil, errors.New("no endpoint event within 10s")
	}
	c.send = func(msg []byte) error {
		req, _ := http.NewRequest("POST", post, bytes.NewReader(msg))
		req.Header.Set("Content-Type", "application/json")
		if err := d.header(req.Header, context.Background()); err != nil {
			return err
		}
		resp, err := d.client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: %d", post, resp.StatusCode)
		}
		return nil
	}
	if err := c.handshake(ctx, d.cfg.Protocol); err != nil {
		c.Close()
		return nil, err
	}
	return &legacyConn{c: c, d: d}, nil
}

type legacyConn struct {
	c *msgConn
	d *legacySSE
}

func (l *legacyConn) Call(deadline time.Time) Outcome {
	return l.c.call(l.d.cfg.Tool, l.d.cfg.Arguments, deadline)
}
func (l *legacyConn) Close() error { return l.c.Close() }

// Bytes counts what crossed the driver's connections.
func (d *legacySSE) Bytes() (read, written int64) { return d.wire.bytes() }

// Close closes every connection.
func (d *legacySSE) Close() error {
	d.client.CloseIdleConnections()
	d.wire.closeAll()
	return nil
}
