package bench

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

func TestMergeResults(t *testing.T) {
	var segs []*Result
	for round := 0; round < 3; round++ {
		d := newFake(func(n int64) (time.Duration, Outcome) {
			if n%10 == 9 {
				return 0, Outcome{Class: ClassHTTP, Code: 503}
			}
			return time.Duration(round+1) * 2 * time.Millisecond, Outcome{}
		})
		segs = append(segs, mustRun(t, context.Background(), Config{Name: "v", Driver: d, Pacer: constantPacer(t, 2000), Requests: 200, Connections: 4}))
		d.Close()
	}
	m, err := MergeResults("v", segs)
	if err != nil {
		t.Fatal(err)
	}
	a := m.Accounting
	if a.Scheduled != 600 || a.OK+a.Errors != 600 || a.ByCode["http 503"] != segs[0].Accounting.ByCode["http 503"]*3 {
		t.Errorf("accounting %+v", a)
	}
	if m.Response.Count != int64(a.OK) || m.Histograms.Response.TotalCount() != int64(a.OK) {
		t.Errorf("merged histogram holds %d, ok %d", m.Histograms.Response.TotalCount(), a.OK)
	}
	// Rounds slept 2, 4 and 6 ms: the merged median lies between the first
	// and the last round's, and the merged max is the largest max.
	if p := m.Service.P50; p <= segs[0].Service.P50 || p >= segs[2].Service.P50 {
		t.Errorf("merged service p50 %v, rounds %v %v %v", time.Duration(p),
			time.Duration(segs[0].Service.P50), time.Duration(segs[1].Service.P50), time.Duration(segs[2].Service.P50))
	}
	if mx := max(segs[0].Service.Max, segs[1].Service.Max, segs[2].Service.Max); m.Service.Max != mx {
		t.Errorf("merged max %d, largest segment max %d", m.Service.Max, mx)
	}
	if m.Duration != segs[0].Duration+segs[1].Duration+segs[2].Duration || m.Achieved <= 0 {
		t.Errorf("duration %v, achieved %v", m.Duration, m.Achieved)
	}
	if m.ServerCPUNote != "" {
		t.Errorf("server CPU note %q from segments without one", m.ServerCPUNote)
	}
	segs[0].ServerCPUNote, segs[1].ServerCPUNote, segs[2].ServerCPUNote = CPUNoteExternal, "", CPUNoteExternal
	if m, err := MergeResults("v", segs); err != nil || m.ServerCPUNote != CPUNoteExternal {
		t.Errorf("merged server CPU note %q (%v), want the segments' %q", m.ServerCPUNote, err, CPUNoteExternal)
	}
	segs[1].ServerCPUNote = "not measured: stdio server (pid 7) CPU time: gone"
	if m, err := MergeResults("v", segs); err != nil || m.ServerCPUNote != CPUNoteExternal+"; "+segs[1].ServerCPUNote {
		t.Errorf("merged server CPU note %q (%v): want each distinct note once", m.ServerCPUNote, err)
	}
	if _, err := MergeResults("none", nil); err == nil {
		t.Error("merging nothing succeeded")
	}
}

// TestMergeResultsLogAndCPU checks that the merged interval log holds every
// segment's histograms, each at its own time, and that server CPU per call
// counts only the segments whose CPU was read.
func TestMergeResultsLogAndCPU(t *testing.T) {
	var segs []*Result
	for round := 0; round < 3; round++ {
		d := newFake(func(int64) (time.Duration, Outcome) { return time.Millisecond, Outcome{} })
		segs = append(segs, mustRun(t, context.Background(), Config{Name: fmt.Sprintf("v#%d", round+1), Driver: d, Pacer: constantPacer(t, 2000), Requests: 100, Connections: 4}))
		d.Close()
		time.Sleep(20 * time.Millisecond)
	}
	segs[0].ServerCPU, segs[2].ServerCPU = 100*time.Millisecond, 300*time.Millisecond // the second's read failed
	m, err := MergeResults("v", segs)
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(400*time.Millisecond) / 200; m.ServerCPUCall != want {
		t.Errorf("server CPU per call %v, want %v (the measured segments' CPU over their calls)", m.ServerCPUCall, want)
	}
	if len(m.Warnings) == 0 || !strings.Contains(m.Warnings[len(m.Warnings)-1], "2 of 3 segments") {
		t.Errorf("warnings %q say nothing of the segment without CPU", m.Warnings)
	}
	r := hdr.NewHistogramLogReader(bytes.NewReader(m.IntervalLog))
	var count int64
	var starts []int64
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		if h.Tag() == TagResponse {
			count += h.TotalCount()
			starts = append(starts, h.StartTimeMs())
		}
	}
	if count != int64(m.Accounting.OK) {
		t.Errorf("the merged log holds %d response values, ok %d", count, m.Accounting.OK)
	}
	if len(starts) < 3 || !slices.IsSorted(starts) || starts[len(starts)-1]-starts[0] < 40 {
		t.Errorf("interval starts %v (ms): want the segments one after another, 20ms apart at least", starts)
	}
}

// TestMergeKeepsEngine: the merged result names the engine its segments
// ran on, or "mixed".
func TestMergeKeepsEngine(t *testing.T) {
	seg := func(engine, batch string) *Result {
		return &Result{Name: "s", Engine: engine, Batch: batch, Histograms: struct{ Response, Service, Lag *hdr.Histogram }{NewHistogram(), NewHistogram(), NewHistogram()}}
	}
	for _, tc := range []struct {
		segs          []*Result
		engine, batch string
	}{
		{[]*Result{seg("loop", "0s"), seg("loop", "0s")}, "loop", "0s"},
		{[]*Result{seg("loop", "0s"), seg("workers", "")}, "mixed", ""},
	} {
		m, err := MergeResults("m", tc.segs)
		if err != nil {
			t.Fatal(err)
		}
		if m.Engine != tc.engine || m.Batch != tc.batch {
			t.Errorf("engine %q batch %q, want %q %q", m.Engine, m.Batch, tc.engine, tc.batch)
		}
	}
}

func TestMergeTLS(t *testing.T) {
	seg := func(version string, n, resumed int64, took ...int64) *Result {
		r := &Result{Name: "s", Histograms: struct{ Response, Service, Lag *hdr.Histogram }{NewHistogram(), NewHistogram(), NewHistogram()}}
		if n > 0 {
			h := NewHistogram()
			for _, v := range took {
				h.RecordValue(v)
			}
			r.TLS = &TLSInfo{Version: version, CipherSuite: "TLS_AES_128_GCM_SHA256", Group: "X25519", Handshakes: n, Resumed: resumed, Histogram: h}
		}
		return r
	}
	a, b := seg("TLS 1.3", 2, 1, 400_000, 300_000), seg("TLS 1.2", 1, 0, 500_000)
	m, err := MergeResults("m", []*Result{seg("", 0, 0), a, b})
	if err != nil {
		t.Fatal(err)
	}
	got := m.TLS
	if got == nil || got.Version != "TLS 1.3; TLS 1.2" || got.Group != "X25519" || got.Handshakes != 3 || got.Resumed != 1 ||
		got.Handshake.Count != 3 || got.Handshake.Max < 500_000 {
		t.Fatalf("merged %+v", got)
	}
	if a.TLS.Handshakes != 2 || a.TLS.Histogram.TotalCount() != 2 {
		t.Errorf("merging changed a segment: %+v", a.TLS)
	}
	if m, _ := MergeResults("m", []*Result{seg("", 0, 0)}); m.TLS != nil {
		t.Errorf("plain HTTP merged into TLS %+v", m.TLS)
	}
}

// TestSplitSegmentLog: a variant's log of several segments splits back
// into each segment's own log, intervals and times as they were.
func TestSplitSegmentLog(t *testing.T) {
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var segs []*Result
	for k := range 3 {
		r := shardResult(t, 0, 1, [][]int64{{int64(1000 * (k + 1))}, {int64(2000 * (k + 1)), 5}}, start.Add(time.Duration(k)*1500*time.Millisecond))
		r.Name = fmt.Sprintf("v#%d", k+1)
		segs = append(segs, r)
	}
	parts := SplitSegmentLog(concatLogs(segs))
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for k, p := range parts {
		want, _ := ReadIntervalLog(segs[k].IntervalLog)
		got, err := ReadIntervalLog(p.Log)
		if err != nil || len(got) != len(want) || k > 0 && p.Name != segs[k].Name {
			t.Fatalf("part %d (%q): %d intervals, %v", k, p.Name, len(got), err)
		}
		for i := range got {
			if got[i].StartMs != want[i].StartMs || got[i].Response.Max() != want[i].Response.Max() || got[i].Response.TotalCount() != want[i].Response.TotalCount() {
				t.Errorf("part %d interval %d: at %d ms, max %d; want %d ms, max %d", k, i, got[i].StartMs, got[i].Response.Max(), want[i].StartMs, want[i].Response.Max())
			}
		}
	}
}
