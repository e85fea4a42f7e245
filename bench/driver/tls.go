package driver

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/mcpbench/mcpbench/bench"
)

// TLSStats records a driver's TLS handshakes: what each negotiated and
// how long it took. Its zero value is ready to use; it is safe for
// concurrent use.
type TLSStats struct {
	mu                         sync.Mutex
	h                          *hdr.Histogram
	n, resumed, failed         int64
	version, suite, group, alp map[string]int64
}

// Client runs the client side of a TLS handshake on raw (a connection to
// addr, counted as the caller likes) within timeout and records it. The
// server's name is addr's host unless cfg names one. On error raw is closed.
func (s *TLSStats) Client(raw net.Conn, addr string, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	c := tls.Client(raw, cfg)
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	t := time.Now()
	err := c.HandshakeContext(ctx)
	took := time.Since(t)
	if err != nil {
		s.mu.Lock()
		s.failed++
		s.mu.Unlock()
		raw.Close()
		return nil, err
	}
	s.record(c.ConnectionState(), took)
	return c, nil
}

func (s *TLSStats) record(st tls.ConnectionState, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		s.h = bench.NewHistogram()
		s.version, s.suite, s.group, s.alp = map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	}
	_ = s.h.RecordValue(int64(took))
	s.n++
	if st.DidResume {
		s.resumed++
	}
	s.version[tls.VersionName(st.Version)]++
	s.suite[tls.CipherSuiteName(st.CipherSuite)]++
	if st.CurveID != 0 {
		s.group[st.CurveID.String()]++
	}
	if st.NegotiatedProtocol != "" {
		s.alp[st.NegotiatedProtocol]++
	}
}

// Take returns what was recorded since the last Take and starts afresh;
// nil when nothing was.
func (s *TLSStats) Take() *bench.TLSInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 && s.failed == 0 {
		return nil
	}
	info := &bench.TLSInfo{Version: tally(s.version), CipherSuite: tally(s.suite), Group: tally(s.group), ALPN: tally(s.alp),
		Handshakes: s.n, Resumed: s.resumed, Failed: s.failed, Histogram: s.h}
	if s.h != nil {
		info.Handshake = bench.PercentilesOf(s.h)
	}
	s.h, s.n, s.resumed, s.failed = nil, 0, 0, 0
	s.version, s.suite, s.group, s.alp = nil, nil, nil, nil
	return info
}

// tally names the one value a map counted, or, when there were several,
// each with its count, most frequent first: "X25519MLKEM768 12, X25519 4".
func tally(m map[string]int64) string {
	keys := slices.Collect(maps.Keys(m))
	if len(keys) <= 1 {
		return strings.Join(keys, "")
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
