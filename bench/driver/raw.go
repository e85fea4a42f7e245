package driver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/mcpbench/mcpbench/bench"
	"golang.org/x/sys/unix"
)

// StatusOutcome classifies a reply by its status alone, as ClassifyStatus
// does a fasthttp.Response.
func StatusOutcome(status int) bench.Outcome {
	switch {
	case status >= 200 && status < 300:
		return bench.Outcome{Class: bench.OK, Code: status}
	case status == 429:
		return bench.Outcome{Class: bench.ClassRateLimited, Code: status}
	default:
		return bench.Outcome{Class: bench.ClassHTTP, Code: status}
	}
}

// RawRequest is one HTTP/1.1 request kept as its parts and written out as
// bytes, for the drivers of the event loop. It is a Request, so an
// Authorizer sets its credentials. Its encoding is kept between calls and
// rebuilt only when a header or the body changes: the hot path does not
// allocate.
type RawRequest struct {
	method, url, host, target string
	headers                   []Header
	body                      []byte
	enc                       []byte
	dirty                     bool
}

// NewRawRequest returns the request method makes of rawURL (http only),
// with the headers given and body (nil for none).
func NewRawRequest(method, rawURL string, headers []Header, body []byte) (*RawRequest, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%w: URL %q: want http://host:port/path", bench.ErrConfig, rawURL)
	}
	q := &RawRequest{method: method, url: rawURL, host: u.Host, target: u.RequestURI(), body: body, dirty: true}
	for _, h := range headers {
		q.SetHeader(h.Name, h.Value)
	}
	return q, nil
}

// Method returns the request's method.
func (q *RawRequest) Method() string { return q.method }

// URL returns the request's URL.
func (q *RawRequest) URL() string { return q.url }

// Header returns the header's value (matched without regard to case), nil
// when absent. The bytes must not be changed.
func (q *RawRequest) Header(name string) []byte {
	for _, h := range q.headers {
		if strings.EqualFold(h.Name, name) {
			return unsafe.Slice(unsafe.StringData(h.Value), len(h.Value))
		}
	}
	return nil
}

// SetHeader sets a header, replacing any of the same name.
func (q *RawRequest) SetHeader(name, value string) {
	q.dirty = true
	for i, h := range q.headers {
		if strings.EqualFold(h.Name, name) {
			q.headers[i].Value = value
			return
		}
	}
	q.headers = append(q.headers, Header{name, value})
}

// SetBody replaces the body; b is used as it is, not copied.
func (q *RawRequest) SetBody(b []byte) { q.body = b }

// AppendTo appends the request's bytes to dst.
func (q *RawRequest) AppendTo(dst []byte) []byte {
	if q.dirty {
		e := q.enc[:0]
		e = append(append(append(append(e, q.method...), ' '), q.target...), " HTTP/1.1\r\nHost: "...)
		e = append(append(e, q.host...), "\r\n"...)
		for _, h := range q.headers {
			e = append(append(append(append(e, h.Name...), ": "...), h.Value...), "\r\n"...)
		}
		q.enc, q.dirty = e, false
	}
	dst = append(dst, q.enc...)
	if q.body != nil || q.method == "POST" || q.method == "PUT" {
		dst = append(strconv.AppendInt(append(dst, "Content-Length: "...), int64(len(q.body)), 10), "\r\n"...)
	}
	return append(append(dst, "\r\n"...), q.body...)
}

// DialSocket connects a non-blocking TCP socket to addr (host:port) and
// returns it, with Nagle's algorithm off, for the event loop to read and
// write directly. Its bytes bypass Go's poller, which would otherwise wake
// for every reply the loop reads itself.
func DialSocket(ctx context.Context, addr string, timeout time.Duration) (int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return -1, fmt.Errorf("port %q: %w", port, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(ips) == 0 {
			return -1, fmt.Errorf("%w: resolve %s: %w", bench.ErrDial, host, lerr)
		}
		ip = ips[0]
	}
	ip = ip.Unmap()
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip.Is4() {
		sa = &unix.SockaddrInet4{Port: int(p), Addr: ip.As4()}
	} else {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: int(p), Addr: ip.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := connect(ctx, fd, sa, timeout); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("%w: dial %s: %w", bench.ErrDial, addr, err)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return fd, nil
}

func connect(ctx context.Context, fd int, sa unix.Sockaddr, timeout time.Duration) error {
	err := unix.Connect(fd, sa)
	if err == nil {
		return nil
	}
	if err != unix.EINPROGRESS {
		return err
	}
	deadline := SetupDeadline(ctx, timeout)
	if d := time.Now().Add(timeout); d.Before(deadline) {
		deadline = d
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("timed out after %v", timeout)
		}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			break
		}
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if soerr != 0 {
		return unix.Errno(soerr)
	}
	return nil
}
