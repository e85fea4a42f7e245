package bench

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// LoggedInterval is one interval of an HdrHistogram interval log: its
// three histograms (response, service, lag) and when it began and ended,
// in milliseconds from the log's base time (mcpbench's: the run's start).
type LoggedInterval struct {
	StartMs, EndMs         int64
	Response, Service, Lag *hdr.Histogram
}

// logBaseMs is the base time a log reader adds to a log's timestamps, in
// ms: the BaseTime header's whole seconds (the header does not hold the
// milliseconds the timestamps are relative to).
func logBaseMs(b []byte) int64 {
	const p = "#[BaseTime: "
	i := bytes.Index(b, []byte(p))
	if i < 0 {
		return 0
	}
	rest := b[i+len(p):]
	end := bytes.IndexAny(rest, " ]")
	if end < 0 {
		return 0
	}
	sec, err := strconv.ParseFloat(string(rest[:end]), 64)
	if err != nil {
		return 0
	}
	return int64(sec) * 1000
}

// ReadIntervalLog reads an interval log as mcpbench writes it (tags
// response, service, lag) into its intervals, in order, the three tags of
// an interval joined by their start time.
func ReadIntervalLog(b []byte) ([]LoggedInterval, error) {
	r := hdr.NewHistogramLogReader(bytes.NewReader(b))
	base := logBaseMs(b)
	var out []LoggedInterval
	at := map[int64]int{} // start ms → index in out
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("interval log: %w", err)
		}
		if h == nil {
			break
		}
		start := h.StartTimeMs() - base
		i, ok := at[start]
		if !ok {
			i = len(out)
			at[start] = i
			out = append(out, LoggedInterval{StartMs: start, EndMs: h.EndTimeMs() - base})
		}
		switch h.Tag() {
		case TagResponse:
			out[i].Response = h
		case TagService:
			out[i].Service = h
		case TagLag:
			out[i].Lag = h
		default:
			return nil, fmt.Errorf("interval log: unknown tag %q", h.Tag())
		}
	}
	for _, iv := range out {
		if iv.Response == nil || iv.Service == nil || iv.Lag == nil {
			return nil, fmt.Errorf("interval log: the interval at %d ms lacks a tag", iv.StartMs)
		}
	}
	return out, nil
}

// ErrShards: results that cannot be merged as the shards of one run.
var ErrShards = errors.New("these results are not the shards of one run")

// MergeShards combines the results of N generators that shared one
// schedule (each with Shard "I/N", I = 0 … N-1, each once) into the
// result of the whole: histograms and interval logs added (never
// percentiles averaged), counts, bytes and generator CPU summed, rates
// over the longest measured time (the shards ran at once), each
// interval's calls summed with its histograms merged. Each shard must
// carry its histograms (Histograms) and its interval log. Server CPU is
// kept only when one shard read it (every shard reads the same server, so
// a sum would count it N times).
func MergeShards(name string, shards []*Result) (*Result, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrShards)
	}
	if err := checkShards(shards); err != nil {
		return nil, err
	}
	f := shards[0]
	base, _, _ := strings.Cut(f.Schedule, ", shard ")
	m := &Result{
		Name: name, Target: f.Target, Model: f.Model, Schedule: base, Engine: f.Engine, Batch: f.Batch, ReplyTimes: f.ReplyTimes,
		Warmup: f.Warmup, Timeout: f.Timeout, Started: f.Started, StartAt: f.StartAt, Setup: f.Setup, Shards: len(shards),
	}
	m.Histograms.Response, m.Histograms.Service, m.Histograms.Lag = NewHistogram(), NewHistogram(), NewHistogram()
	a := &m.Accounting
	a.ByClass, a.ByCode = map[string]uint64{}, map[string]uint64{}
	var dropped int64
	var logs [][]LoggedInterval
	cpuShards := 0
	for _, s := range shards {
		m.TargetRate += s.TargetRate
		m.Connections += s.Connections
		m.Duration = max(m.Duration, s.Duration)
		m.Started = minTime(m.Started, s.Started)
		m.Interrupted = m.Interrupted || s.Interrupted
		a.add(s.Accounting)
		m.GeneratorCPU += s.GeneratorCPU
		m.BytesRead += s.BytesRead
		m.BytesWritten += s.BytesWritten
		m.TokenPoolMisses += s.TokenPoolMisses
		m.TLS = mergeTLS(m.TLS, s.TLS)
		m.Counters = addCounters(m.Counters, s.Counters)
		if s.ServerCPU > 0 {
			cpuShards++
			m.ServerCPU = s.ServerCPU
		}
		m.foldEngine(s)
		for _, w := range s.Warnings {
			m.Warnings = append(m.Warnings, "shard "+s.Shard+": "+w)
		}
		if s.Histograms.Response == nil {
			return nil, fmt.Errorf("%w: shard %s has no histograms", ErrShards, s.Shard)
		}
		dropped += m.Histograms.Response.Merge(s.Histograms.Response)
		dropped += m.Histograms.Service.Merge(s.Histograms.Service)
		dropped += m.Histograms.Lag.Merge(s.Histograms.Lag)
		l, err := ReadIntervalLog(s.IntervalLog)
		if err != nil {
			return nil, fmt.Errorf("shard %s: %w", s.Shard, err)
		}
		logs = append(logs, l)
	}
	if dropped > 0 {
		return nil, fmt.Errorf("merge %s: %d samples outside the histograms' range", name, dropped)
	}
	if cpuShards > 1 {
		m.ServerCPU = 0
		m.ServerCPUNote = "not merged: every shard read the same server's CPU"
	}
	if err := a.settle(); err != nil {
		return m, fmt.Errorf("merge %s: %w", name, err)
	}
	m.Response, m.Service, m.Lag = PercentilesOf(m.Histograms.Response), PercentilesOf(m.Histograms.Service), PercentilesOf(m.Histograms.Lag)
	calls := float64(m.Calls())
	if m.Duration > 0 {
		m.Achieved = calls / m.Duration.Seconds()
	}
	if calls > 0 {
		m.GeneratorCPUCall = float64(m.GeneratorCPU) / calls
		m.BytesPerCall = float64(m.BytesRead+m.BytesWritten) / calls
		if m.ServerCPU > 0 {
			m.ServerCPUCall = float64(m.ServerCPU) / calls
		}
	}
	m.IntervalLog, m.Intervals = mergeLogs(m.Started, shards, logs)
	return m, nil
}

// checkShards says why shards are not the N shards of one run, or nil.
func checkShards(shards []*Result) error {
	f := shards[0]
	n := len(shards)
	seen := map[string]bool{}
	baseOf := func(s string) string { b, _, _ := strings.Cut(s, ", shard "); return b }
	for _, s := range shards {
		i, err := ParseShard(s.Shard)
		switch {
		case s.Shard == "":
			return fmt.Errorf("%w: %s was not run with --shard", ErrShards, s.Name)
		case err != nil:
			return fmt.Errorf("%w: %v", ErrShards, err)
		case i.N != uint64(n):
			var missing []string
			for k := range i.N {
				name := ShardSpec{I: k, N: i.N}.String()
				if !slices.ContainsFunc(shards, func(r *Result) bool { return r.Shard == name }) {
					missing = append(missing, name)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("%w: shard %s is one of %d, and %d were given: missing %s", ErrShards, s.Shard, i.N, n, strings.Join(missing, ", "))
			}
			return fmt.Errorf("%w: shard %s is one of %d, and %d were given", ErrShards, s.Shard, i.N, n)
		case seen[s.Shard]:
			return fmt.Errorf("%w: shard %s given twice", ErrShards, s.Shard)
		case s.Name != f.Name || s.Target != f.Target || s.Model != f.Model || baseOf(s.Schedule) != baseOf(f.Schedule):
			return fmt.Errorf("%w: shard %s ran %s against %s (%s), shard %s %s against %s (%s)", ErrShards,
				f.Shard, f.Name, f.Target, baseOf(f.Schedule), s.Shard, s.Name, s.Target, baseOf(s.Schedule))
		case s.Warmup != f.Warmup || s.Timeout != f.Timeout:
			return fmt.Errorf("%w: shards %s and %s ran with different warm-ups or timeouts", ErrShards, f.Shard, s.Shard)
		case (s.StartAt == nil) != (f.StartAt == nil) || s.StartAt != nil && !s.StartAt.Equal(*f.StartAt):
			return fmt.Errorf("%w: shards %s and %s were not given one start instant (--start-at)", ErrShards, f.Shard, s.Shard)
		}
		seen[s.Shard] = true
	}
	return nil
}

// mergeLogs adds the shards' intervals that began at the same offset from
// their start into one interval, writes them as one interval log from
// start, and returns it with the merged intervals (calls counted from the
// shards' own intervals where they carry them).
func mergeLogs(start time.Time, shards []*Result, logs [][]LoggedInterval) ([]byte, []Interval) {
	type key = int64 // offset from the shard's start, ms, to 10 ms
	sum := map[key]*LoggedInterval{}
	counts := map[key]*Interval{}
	for si, l := range logs {
		s := shards[si]
		for _, iv := range l {
			k := (iv.StartMs + 5) / 10 * 10
			t := sum[k]
			if t == nil {
				t = &LoggedInterval{StartMs: start.UnixMilli() + k, EndMs: start.UnixMilli() + k + (iv.EndMs - iv.StartMs),
					Response: NewHistogram(), Service: NewHistogram(), Lag: NewHistogram()}
				sum[k] = t
			}
			t.Response.Merge(iv.Response)
			t.Service.Merge(iv.Service)
			t.Lag.Merge(iv.Lag)
		}
		for _, iv := range s.Intervals {
			k := (iv.Start.Milliseconds() + 5) / 10 * 10
			c := counts[k]
			if c == nil {
				c = &Interval{Start: iv.Start, End: iv.End, Warmup: iv.Warmup}
				counts[k] = c
			}
			c.Target += iv.Target
			c.Started += iv.Started
			c.Errors += iv.Errors
			for i := range c.ByClass {
				c.ByClass[i] += iv.ByClass[i]
			}
			c.InFlight += iv.InFlight
		}
	}
	keys := make([]key, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	for k := range counts {
		if sum[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmp.Compare)
	var buf bytes.Buffer
	w := hdr.NewHistogramLogWriter(&buf)
	w.SetBaseTime(start.UnixMilli())
	_ = w.OutputLogFormatVersion()
	_ = w.OutputComment(fmt.Sprintf("mcpbench merge of %d shards; values in nanoseconds; tags: response = done-intended, service = done-sent, lag = sent-intended", len(shards)))
	_ = w.OutputStartTime(start.UnixMilli())
	_ = w.OutputBaseTime(start.UnixMilli())
	_ = w.OutputLegend()
	var ivs []Interval
	for _, k := range keys {
		iv := Interval{Start: time.Duration(k) * time.Millisecond}
		if c := counts[k]; c != nil {
			iv = *c
		}
		if t := sum[k]; t != nil {
			for _, th := range []struct {
				tag string
				h   *hdr.Histogram
			}{{TagResponse, t.Response}, {TagService, t.Service}, {TagLag, t.Lag}} {
				th.h.SetStartTimeMs(t.StartMs)
				th.h.SetEndTimeMs(t.EndMs)
				th.h.SetTag(th.tag)
				_ = w.OutputIntervalHistogram(th.h)
			}
			iv.Response, iv.Service, iv.Lag = PercentilesOf(t.Response), PercentilesOf(t.Service), PercentilesOf(t.Lag)
			if iv.End == 0 {
				iv.End = iv.Start + time.Duration(t.EndMs-t.StartMs)*time.Millisecond
			}
		}
		ivs = append(ivs, iv)
	}
	return buf.Bytes(), ivs
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
