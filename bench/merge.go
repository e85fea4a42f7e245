package bench

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MergeResults combines the segments one variant ran (its rounds) into one
// result: histograms merged (never percentiles averaged), counts, CPU and
// bytes summed, rates over the summed measured time, the segments'
// distinct server CPU notes kept. The segments keep their own figures;
// the merged result's Intervals are theirs in order.
func MergeResults(name string, segs []*Result) (*Result, error) {
	if len(segs) == 0 {
		return nil, fmt.Errorf("merge %s: no segments", name)
	}
	m := &Result{
		Name: name, Target: segs[0].Target, Model: segs[0].Model, Schedule: segs[0].Schedule,
		TargetRate: segs[0].TargetRate, Connections: segs[0].Connections, Warmup: segs[0].Warmup,
		Timeout: segs[0].Timeout, Started: segs[0].Started, Setup: segs[0].Setup,
		Engine: segs[0].Engine, Batch: segs[0].Batch, ReplyTimes: segs[0].ReplyTimes, Shard: segs[0].Shard, Shards: segs[0].Shards,
	}
	m.Histograms.Response, m.Histograms.Service, m.Histograms.Lag = NewHistogram(), NewHistogram(), NewHistogram()
	a := &m.Accounting
	a.ByClass, a.ByCode = map[string]uint64{}, map[string]uint64{}
	var dropped int64
	var cpuCalls uint64 // calls of the segments whose server CPU was read
	cpuSegs := 0
	var notes []string
	for _, s := range segs {
		m.foldEngine(s)
		m.Duration += s.Duration
		m.Interrupted = m.Interrupted || s.Interrupted
		a.add(s.Accounting)
		m.GeneratorCPU += s.GeneratorCPU
		if s.ServerCPU > 0 {
			m.ServerCPU += s.ServerCPU
			cpuCalls += s.Calls()
			cpuSegs++
		}
		if n := s.ServerCPUNote; n != "" && !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
		m.BytesRead += s.BytesRead
		m.BytesWritten += s.BytesWritten
		m.TokenPoolMisses += s.TokenPoolMisses
		m.TLS = mergeTLS(m.TLS, s.TLS)
		m.Counters = addCounters(m.Counters, s.Counters)
		if s.HTTP2 != nil {
			h := *s.HTTP2
			if m.HTTP2 != nil {
				h.Dials = max(h.Dials, m.HTTP2.Dials) // counted since the driver was made
			}
			m.HTTP2 = &h
		}
		m.Warnings = append(m.Warnings, s.Warnings...)
		m.Intervals = append(m.Intervals, s.Intervals...)
		if s.Histograms.Response != nil {
			dropped += m.Histograms.Response.Merge(s.Histograms.Response)
			dropped += m.Histograms.Service.Merge(s.Histograms.Service)
			dropped += m.Histograms.Lag.Merge(s.Histograms.Lag)
		}
	}
	m.ServerCPUNote = strings.Join(notes, "; ")
	if dropped > 0 {
		return nil, fmt.Errorf("merge %s: %d samples outside the histograms' range", name, dropped)
	}
	m.IntervalLog = concatLogs(segs)
	if cpuSegs > 0 && cpuSegs < len(segs) {
		m.Warnings = append(m.Warnings, fmt.Sprintf("server CPU per call is from the %d of %d segments whose CPU was read, over their calls alone", cpuSegs, len(segs)))
	}
	if err := a.settle(); err != nil {
		return m, fmt.Errorf("merge %s: %w", name, err)
	}
	m.Response = PercentilesOf(m.Histograms.Response)
	m.Service = PercentilesOf(m.Histograms.Service)
	m.Lag = PercentilesOf(m.Histograms.Lag)
	calls := float64(m.Calls())
	if secs := m.Duration.Seconds(); secs > 0 {
		m.Achieved = calls / secs
	}
	if calls > 0 {
		m.GeneratorCPUCall = float64(m.GeneratorCPU) / calls
		if cpuCalls > 0 {
			m.ServerCPUCall = float64(m.ServerCPU) / float64(cpuCalls)
		}
		if m.BytesRead+m.BytesWritten > 0 {
			m.BytesPerCall = float64(m.BytesRead+m.BytesWritten) / calls
		}
	}
	return m, nil
}

// concatLogs joins the segments' interval logs into one: the first log's
// header, then every segment's interval lines with their timestamps moved
// to the first log's base time, each segment under a comment naming it.
// Nothing is re-encoded, so nothing is lost.
func concatLogs(segs []*Result) []byte {
	var out bytes.Buffer
	base := segs[0].Started
	for i, s := range segs {
		if len(s.IntervalLog) == 0 {
			continue
		}
		shift := s.Started.Sub(base).Seconds()
		lines := bytes.SplitAfter(s.IntervalLog, []byte("\n"))
		if i > 0 {
			fmt.Fprintf(&out, "#segment %s, %.3fs after the first\n", s.Name, shift)
		}
		for _, l := range lines {
			if len(l) == 0 {
				continue
			}
			if l[0] == '#' || l[0] == '"' {
				if i == 0 {
					out.Write(l)
				}
				continue
			}
			out.Write(shiftLine(l, shift))
		}
	}
	return out.Bytes()
}

// shiftLine adds shift seconds to an interval line's start timestamp:
// [Tag=NAME,]START,LENGTH,MAX,HISTOGRAM.
func shiftLine(l []byte, shift float64) []byte {
	if shift == 0 {
		return l
	}
	at := 0
	if bytes.HasPrefix(l, []byte("Tag=")) {
		at = bytes.IndexByte(l, ',') + 1
	}
	end := at + bytes.IndexByte(l[at:], ',')
	if end < at {
		return l
	}
	start, err := strconv.ParseFloat(string(l[at:end]), 64)
	if err != nil {
		return l
	}
	out := append([]byte{}, l[:at]...)
	out = strconv.AppendFloat(out, start+shift, 'f', 3, 64)
	return append(out, l[end:]...)
}

// settle ends a sum of accountings: maps left empty are dropped (as a
// run leaves them), and the identity is checked.
func (a *Accounting) settle() error {
	if len(a.ByClass) == 0 {
		a.ByClass = nil
	}
	if len(a.ByCode) == 0 {
		a.ByCode = nil
	}
	return a.Check()
}

// add sums b's counts into a (whose maps must be made).
func (a *Accounting) add(b Accounting) {
	a.Scheduled += b.Scheduled
	a.Sent += b.Sent
	a.OK += b.OK
	a.Errors += b.Errors
	a.InFlight += b.InFlight
	a.Queued += b.Queued
	a.Clamped += b.Clamped
	for k, v := range b.ByClass {
		a.ByClass[k] += v
	}
	for k, v := range b.ByCode {
		a.ByCode[k] += v
	}
}

// mergeTLS adds b's handshakes to a's: counts summed, histograms merged,
// and a field the two name differently kept as both ("TLS 1.3; TLS 1.2").
func mergeTLS(a, b *TLSInfo) *TLSInfo {
	if a == nil || b == nil {
		if b != nil {
			c := *b
			c.Histogram = nil
			if b.Histogram != nil {
				c.Histogram = NewHistogram()
				c.Histogram.Merge(b.Histogram)
			}
			return &c
		}
		return a
	}
	both := func(x, y string) string {
		if x == y || y == "" {
			return x
		}
		if x == "" {
			return y
		}
		return x + "; " + y
	}
	a.Version, a.CipherSuite, a.Group, a.ALPN = both(a.Version, b.Version), both(a.CipherSuite, b.CipherSuite), both(a.Group, b.Group), both(a.ALPN, b.ALPN)
	a.Handshakes += b.Handshakes
	a.Resumed += b.Resumed
	a.Failed += b.Failed
	if a.Histogram == nil || b.Histogram == nil {
		// Read back from summary.json, without histograms: the merged
		// handshake times cannot be known.
		a.Histogram, a.Handshake = nil, Percentiles{}
		return a
	}
	a.Histogram.Merge(b.Histogram)
	a.Handshake = PercentilesOf(a.Histogram)
	return a
}

// addCounters adds b's counts to a's (a new map when a is nil).
func addCounters(a, b map[string]int64) map[string]int64 {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = map[string]int64{}
	}
	for k, v := range b {
		a[k] += v
	}
	return a
}

// SegmentLog is one segment's part of a variant's interval log.
type SegmentLog struct {
	Name string // "" for the first, which has no marker
	Log  []byte // the first log's header, then the segment's interval lines
}

// SplitSegmentLog undoes concatLogs: a variant's log, its segments one
// after another, back into one log per segment. Each part has the
// header, so it reads alone, and its timestamps moved back to its own
// start; nothing is re-encoded.
func SplitSegmentLog(b []byte) []SegmentLog {
	var header, body bytes.Buffer
	var out []SegmentLog
	name, started, shift := "", false, 0.0
	flush := func() {
		out = append(out, SegmentLog{Name: name, Log: append(bytes.Clone(header.Bytes()), body.Bytes()...)})
		body.Reset()
	}
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		switch {
		case len(l) == 0:
		case bytes.HasPrefix(l, []byte("#segment ")):
			flush()
			n, rest, _ := bytes.Cut(bytes.TrimPrefix(l, []byte("#segment ")), []byte(", "))
			name = string(bytes.TrimSpace(n))
			if sec, _, ok := bytes.Cut(rest, []byte("s after")); ok {
				shift, _ = strconv.ParseFloat(string(sec), 64)
			}
		case l[0] == '#' || l[0] == '"':
			if !started {
				header.Write(l)
			}
		default:
			started = true
			body.Write(shiftLine(l, -shift))
		}
	}
	if started || len(out) > 0 {
		flush()
	}
	return out
}

// foldEngine makes m's engine, window and reply timing, taken from the
// first of the results merged into it, "mixed" (or none) where result s's
// differ.
func (m *Result) foldEngine(s *Result) {
	if s.Engine != m.Engine || s.Batch != m.Batch {
		m.Engine, m.Batch = "mixed", ""
	}
	if s.ReplyTimes != m.ReplyTimes {
		m.ReplyTimes = "mixed"
	}
}
