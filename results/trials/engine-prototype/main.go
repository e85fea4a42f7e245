// Prototype: an open-loop HTTP/1.1 generator on one epoll loop (one OS
// thread), to measure what CPU per request Go can reach before designing
// mcpbench's engine. Not project code.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

type conn struct {
	fd       int
	busy     bool
	intended int64 // ns since start of the request in flight
	buf      []byte
	n        int
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	addr := flag.String("addr", "", "host:port")
	rate := flag.Float64("rate", 1000, "per second")
	dur := flag.Duration("d", 10*time.Second, "")
	nc := flag.Int("c", 16, "")
	path := flag.String("path", "/", "")
	window := flag.Duration("window", 0, "wake at most once per window (sends late by up to this)")
	flag.Parse()
	runtime.LockOSThread()
	req := []byte("GET " + *path + " HTTP/1.1\r\nHost: " + *addr + "\r\n\r\n")
	ep, err := unix.EpollCreate1(0)
	must(err)
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK)
	must(err)
	must(unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, tfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(tfd)}))
	ta, _ := net.ResolveTCPAddr("tcp", *addr)
	conns := make([]*conn, *nc)
	byFd := map[int]*conn{}
	for i := range conns {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		must(err)
		sa := &unix.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ta.IP.To4())
		must(unix.Connect(fd, sa))
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		must(unix.SetNonblock(fd, true))
		c := &conn{fd: fd, buf: make([]byte, 64<<10)}
		conns[i], byFd[fd] = c, c
		must(unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}))
	}
	h := hdr.New(1, int64(time.Minute), 3)
	interval := float64(time.Second) / *rate
	total := int64(float64(*dur) / interval)
	start := time.Now()
	var sent, done, queuedMax int64
	var idle []*conn = append([]*conn(nil), conns...)
	var queue []int64 // intended times waiting for a connection
	due := func(n int64) int64 { return int64(float64(n) * interval) }
	arm := func(at int64) {
		ts := unix.NsecToTimespec(at)
		_ = ts
		abs := start.Add(time.Duration(at))
		d := time.Until(abs)
		if d <= 0 {
			d = 1
		}
		unix.TimerfdSettime(tfd, 0, &unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}, nil)
	}
	send := func(c *conn, intended int64) {
		c.busy, c.intended = true, intended
		if _, err := unix.Write(c.fd, req); err != nil {
			panic(err)
		}
	}
	next := int64(0)
	arm(0)
	events := make([]unix.EpollEvent, 64)
	var tbuf [8]byte
	for done < total {
		n, err := unix.EpollWait(ep, events, -1)
		if err == syscall.EINTR {
			continue
		}
		must(err)
		now := int64(time.Since(start))
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			if fd == tfd {
				unix.Read(tfd, tbuf[:])
				continue
			}
			c := byFd[fd]
			m, err := unix.Read(fd, c.buf[c.n:])
			if err == unix.EAGAIN {
				continue
			}
			must(err)
			c.n += m
			// complete response: headers end and Content-Length body
			for {
				he := bytes.Index(c.buf[:c.n], []byte("\r\n\r\n"))
				if he < 0 {
					break
				}
				cl := 0
				if i := bytes.Index(c.buf[:he], []byte("Content-Length: ")); i >= 0 {
					j := bytes.IndexByte(c.buf[i:he+2], '\r')
					cl, _ = strconv.Atoi(string(c.buf[i+16 : i+j]))
				}
				end := he + 4 + cl
				if c.n < end {
					break
				}
				copy(c.buf, c.buf[end:c.n])
				c.n -= end
				h.RecordValue(now - c.intended)
				done++
				c.busy = false
				if len(queue) > 0 {
					send(c, queue[0])
					queue = queue[1:]
				} else {
					idle = append(idle, c)
				}
			}
		}
		for next < total && due(next) <= now {
			if len(idle) > 0 {
				c := idle[len(idle)-1]
				idle = idle[:len(idle)-1]
				send(c, due(next))
			} else {
				queue = append(queue, due(next))
			}
			next++
			sent++
		}
		if int64(len(queue)) > queuedMax {
			queuedMax = int64(len(queue))
		}
		if next < total {
			at := due(next)
			if w := int64(*window); w > 0 && at < now+w {
				at = now + w
			}
			arm(at)
		}
	}
	el := time.Since(start)
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	cpu := time.Duration(unix.TimevalToNsec(ru.Utime) + unix.TimevalToNsec(ru.Stime))
	fmt.Printf("rate %.0f: achieved %.0f/s, p50 %v p99 %v max %v, cpu/req %.2fµs, queue max %d\n", *rate, float64(done)/el.Seconds(),
		time.Duration(h.ValueAtQuantile(50)), time.Duration(h.ValueAtQuantile(99)), time.Duration(h.Max()), float64(cpu)/float64(done)/1e3, queuedMax)
	os.Exit(0)
}
