package bench

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TestShardSchedule: the N shards of a schedule, constant or ramping,
// together make the schedule: every request once, at its time; their Hits
// add up to the schedule's at every instant, and each shard's share of a
// measured range is what it sends of it.
func TestShardSchedule(t *testing.T) {
	constant, _ := Constant(997)
	ramp, _ := Ramp(100, 3000, 2*time.Second)
	for _, p := range []Pacer{constant, ramp} {
		var whole []time.Duration
		for n := uint64(0); ; n++ {
			d, ok := p.Due(n)
			if !ok || d > 2*time.Second {
				break
			}
			whole = append(whole, d)
		}
		for _, n := range []uint64{1, 2, 3, 7} {
			var union []time.Duration
			for i := range n {
				s := Shard{P: p, I: i, N: n}
				for k := uint64(0); ; k++ {
					d, ok := s.Due(k)
					if !ok || d > 2*time.Second {
						break
					}
					union = append(union, d)
				}
			}
			slices.Sort(union)
			if !slices.Equal(union, whole) {
				t.Fatalf("%s in %d shards: %d requests, the schedule has %d", p, n, len(union), len(whole))
			}
			for _, at := range []time.Duration{0, time.Millisecond, 333 * time.Millisecond, 1999 * time.Millisecond} {
				var hits uint64
				for i := range n {
					hits += Shard{P: p, I: i, N: n}.Hits(at)
				}
				if hits != p.Hits(at) {
					t.Errorf("%s in %d shards: %d hits by %v, the schedule %d", p, n, hits, at, p.Hits(at))
				}
			}
			var share uint64
			for i := range n {
				share += ShardSpec{I: i, N: n}.shareOf(13, 1000)
			}
			if share != 1000 {
				t.Errorf("%d shards share 1000 requests as %d", n, share)
			}
		}
	}
	for _, bad := range []string{"", "1", "2/2", "-1/2", "0/0", "a/b"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("shard %q accepted", bad)
		}
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if at, err := ParseStartAt("+30s", now); err != nil || !at.Equal(now.Add(30*time.Second)) {
		t.Errorf("+30s: %v %v", at, err)
	}
	if at, err := ParseStartAt("2026-11-30T12:00:05.5Z", now); err != nil || !at.Equal(now.Add(5500*time.Millisecond)) {
		t.Errorf("RFC 3339: %v %v", at, err)
	}
	if _, err := ParseStartAt("noon", now); err == nil {
		t.Error("noon accepted")
	}
}

// shardResult makes shard i/n's result of the given response samples (ns),
// recorded as mcpbench records them: into per-second interval histograms
// in an interval log, and the totals.
func shardResult(t *testing.T, i, n int, samples [][]int64, start time.Time) *Result {
	t.Helper()
	r := &Result{Name: "load", Target: "http://x/", Model: "open", Schedule: "constant 1000/s, shard " + ShardSpec{I: uint64(i), N: uint64(n)}.String(),
		Shard: ShardSpec{I: uint64(i), N: uint64(n)}.String(), Started: start, Duration: time.Duration(len(samples)) * time.Second, TargetRate: 1000 / float64(n)}
	r.Histograms.Response, r.Histograms.Service, r.Histograms.Lag = NewHistogram(), NewHistogram(), NewHistogram()
	var log bytes.Buffer
	w := hdr.NewHistogramLogWriter(&log)
	w.SetBaseTime(start.UnixMilli())
	w.OutputLogFormatVersion()
	w.OutputStartTime(start.UnixMilli())
	w.OutputBaseTime(start.UnixMilli())
	w.OutputLegend()
	for sec, ss := range samples {
		hs := []*hdr.Histogram{NewHistogram(), NewHistogram(), NewHistogram()}
		for _, v := range ss {
			for _, h := range hs {
				h.RecordValue(v)
			}
			r.Histograms.Response.RecordValue(v)
			r.Histograms.Service.RecordValue(v)
			r.Histograms.Lag.RecordValue(v)
		}
		for k, tag := range []string{TagResponse, TagService, TagLag} {
			hs[k].SetStartTimeMs(start.UnixMilli() + int64(sec)*1000)
			hs[k].SetEndTimeMs(start.UnixMilli() + int64(sec+1)*1000)
			hs[k].SetTag(tag)
			w.OutputIntervalHistogram(hs[k])
		}
		iv := Interval{Start: time.Duration(sec) * time.Second, End: time.Duration(sec+1) * time.Second, Started: uint64(len(ss))}
		iv.ByClass[OK] = uint64(len(ss))
		r.Intervals = append(r.Intervals, iv)
		r.Accounting.Scheduled += uint64(len(ss))
		r.Accounting.Sent += uint64(len(ss))
		r.Accounting.OK += uint64(len(ss))
	}
	r.IntervalLog = log.Bytes()
	return r
}

// TestMergeShardsExact: shards merged give exactly the percentiles of one
// histogram of all their samples, in total and second by second, and the
// counts summed; shards that do not belong together are refused.
func TestMergeShardsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 30, 12, 0, 0, 651_000_000, time.UTC)
	const n, secs = 3, 4
	all, perSec := NewHistogram(), []*hdr.Histogram{NewHistogram(), NewHistogram(), NewHistogram(), NewHistogram()}
	var shards []*Result
	for i := range n {
		samples := make([][]int64, secs)
		for s := range secs {
			for range 200 + rng.IntN(300) {
				v := int64(20_000 + rng.ExpFloat64()*float64(100_000*(i+1))) // the shards differ
				samples[s] = append(samples[s], v)
				all.RecordValue(v)
				perSec[s].RecordValue(v)
			}
		}
		shards = append(shards, shardResult(t, i, n, samples, start))
	}
	m, err := MergeShards("load", []*Result{shards[2], shards[0], shards[1]})
	if err != nil {
		t.Fatal(err)
	}
	if want := PercentilesOf(all); m.Response != want || m.Service != want || m.Lag != want {
		t.Errorf("merged %+v, want %+v", m.Response, want)
	}
	if m.Accounting.OK != uint64(all.TotalCount()) || m.Shards != n || m.Schedule != "constant 1000/s" || m.TargetRate != 1000 {
		t.Errorf("accounting %+v, shards %d, schedule %q, rate %v", m.Accounting, m.Shards, m.Schedule, m.TargetRate)
	}
	if len(m.Intervals) != secs {
		t.Fatalf("%d intervals", len(m.Intervals))
	}
	for s, iv := range m.Intervals {
		if iv.Response != PercentilesOf(perSec[s]) || iv.Completed() != uint64(perSec[s].TotalCount()) {
			t.Errorf("second %d: %+v, want %+v", s, iv.Response, PercentilesOf(perSec[s]))
		}
	}
	back, err := ReadIntervalLog(m.IntervalLog)
	if err != nil || len(back) != secs {
		t.Fatalf("merged log: %d intervals, %v", len(back), err)
	}
	// Refused: a missing shard, one twice, another target, another start.
	other := *shards[1]
	other.Target = "http://y/"
	later := *shards[1]
	at := start.Add(time.Second)
	later.StartAt = &at
	for name, set := range map[string][]*Result{
		"missing":        {shards[0], shards[1]},
		"twice":          {shards[0], shards[1], shards[1]},
		"another target": {shards[0], &other, shards[2]},
		"another start":  {shards[0], &later, shards[2]},
	} {
		if _, err := MergeShards("load", set); !errors.Is(err, ErrShards) {
			t.Errorf("%s: %v, want ErrShards", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := MergeShards("load", []*Result{{Name: "load"}}); err == nil || !strings.Contains(err.Error(), "--shard") {
		t.Errorf("an unsharded result: %v", err)
	}
}
