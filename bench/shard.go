package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ShardSpec names one of N generators that share a schedule: shard I
// (from 0) sends requests I, I+N, I+2N, … of it, so that the N shards
// together send the whole schedule, each request once, at its time.
type ShardSpec struct{ I, N uint64 }

// ParseShard reads "I/N" (0 <= I < N).
func ParseShard(s string) (ShardSpec, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || n == 0 || i >= n {
		return ShardSpec{}, fmt.Errorf("shard %q: want I/N with 0 <= I < N, e.g. 0/4", s)
	}
	return ShardSpec{I: i, N: n}, nil
}

// String is "I/N"; "" for no sharding.
func (s ShardSpec) String() string {
	if s.N <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Shard is the pacer of shard I of N of P's schedule.
type Shard struct {
	P    Pacer
	I, N uint64
}

// Due is when this shard's request n is due: P's request n·N+I.
func (s Shard) Due(n uint64) (time.Duration, bool) { return s.P.Due(n*s.N + s.I) }

// Hits counts this shard's requests due by elapsed: of P's first h, those
// whose index is I modulo N.
func (s Shard) Hits(elapsed time.Duration) uint64 {
	h := s.P.Hits(elapsed)
	if h <= s.I {
		return 0
	}
	return (h - s.I + s.N - 1) / s.N
}

// Rate is this shard's share of P's rate.
func (s Shard) Rate(elapsed time.Duration) float64 { return s.P.Rate(elapsed) / float64(s.N) }

// String describes the whole schedule and the share.
func (s Shard) String() string { return fmt.Sprintf("%s, shard %d/%d", s.P, s.I, s.N) }

// shareOf counts the requests of indexes [from, from+n) that are shard s's.
func (s ShardSpec) shareOf(from, n uint64) uint64 {
	below := func(k uint64) uint64 { // indexes < k that are I modulo N
		if k <= s.I {
			return 0
		}
		return (k - s.I + s.N - 1) / s.N
	}
	return below(from+n) - below(from)
}

// ParseStartAt reads a start instant: RFC 3339 ("2026-11-30T12:00:00Z"),
// or "+DURATION" from now.
func ParseStartAt(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dd, err := time.ParseDuration(d)
		if err != nil || dd < 0 {
			return time.Time{}, fmt.Errorf("start-at %q: want an RFC 3339 time or +DURATION (e.g. +30s)", s)
		}
		return now.Add(dd), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("start-at %q: want an RFC 3339 time (e.g. 2026-11-30T12:00:00Z) or +DURATION", s)
	}
	return t, nil
}

// ClockInfo is what the kernel says of this machine's clock when a run
// starts (adjtimex): whether NTP (or PTP, chrony) keeps it synchronized,
// and its estimated and maximum error. Shards that start at one
// wall-clock instant are aligned to within the sum of their errors.
type ClockInfo struct {
	Synchronized bool  `json:"synchronized"`
	EstErrorUs   int64 `json:"est_error_us"`
	MaxErrorUs   int64 `json:"max_error_us"`
}
