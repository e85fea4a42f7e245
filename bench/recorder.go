package bench

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry, the same everywhere so that merges lose nothing:
// nanoseconds from 1 ns to one hour, three significant digits.
const (
	HistLowest  = 1
	HistHighest = int64(time.Hour)
	HistDigits  = 3
)

// NewHistogram returns an empty histogram with mcpbench's geometry.
func NewHistogram() *hdr.Histogram { return hdr.New(HistLowest, HistHighest, HistDigits) }

// Interval-log tags of the three histograms.
const (
	TagResponse = "response" // done − intended: what a user of the service waits
	TagService  = "service"  // done − sent: what the server took once asked
	TagLag      = "lag"      // sent − intended: how late the request left
)

// hists are the three histograms of one measurement.
type hists struct{ resp, svc, lag *hdr.Histogram }

func newHists() hists { return hists{NewHistogram(), NewHistogram(), NewHistogram()} }

// reset empties h. A histogram that holds nothing is left alone: a reset
// clears all its counts (~270 KB), and each second's rotation resets every
// connection's, most of them idle at moderate rates.
func (h hists) reset() {
	for _, x := range [...]*hdr.Histogram{h.resp, h.svc, h.lag} {
		if x.TotalCount() > 0 {
			x.Reset()
		}
	}
}

// merge adds from into h and returns how many values did not fit.
func (h hists) merge(from hists) (dropped int64) {
	if from.resp.TotalCount()+from.svc.TotalCount()+from.lag.TotalCount() == 0 {
		return 0
	}
	return h.resp.Merge(from.resp) + h.svc.Merge(from.svc) + h.lag.Merge(from.lag)
}

// tally is what one worker has counted since the run began.
type tally struct {
	byClass  [numClasses]uint64 // measured calls completed
	started  uint64             // measured calls sent
	warm     uint64             // warm-up calls completed, any class
	clamped  uint64             // values over HistHighest, recorded as HistHighest
	queued   uint64             // measured jobs taken from the queue and never sent (open loop)
	inflight bool               // a measured call is out now
}

// codeKey names an error code within its class.
type codeKey struct {
	class Class
	code  int
}

// workerRec is one worker's share of the recording. Its worker is the only
// writer; the collector swaps its histograms out once an interval and reads
// its tally. The mutex is uncontended but for that swap, which takes
// nanoseconds: no sample waits on another worker.
type workerRec struct {
	mu      sync.Mutex
	h       hists
	t       tally
	codes   map[codeKey]uint64 // allocated on the first error only
	closed  bool               // set by the final rotation: later samples are dropped
	queue   bool               // an open-loop worker: a measured job it takes and does not send is queued
	calling bool               // the worker is in a call
	gone    bool               // the worker has returned
}

// begin marks the start of a call; false means the call must not be made:
// the recording has closed, or stop says the run has been halted. An
// open-loop worker's measured job that is not sent is counted queued here.
func (w *workerRec) begin(warm, stop bool) bool {
	w.mu.Lock()
	ok := !w.closed && !stop
	switch {
	case ok:
		w.calling = true
		if !warm {
			w.t.started++
			w.t.inflight = true
		}
	case w.queue && !warm:
		w.t.queued++
	}
	w.mu.Unlock()
	return ok
}

// end records a finished call. Times are nanoseconds from the run's start.
// False means the recording has closed: the worker must take no more jobs.
func (w *workerRec) end(intended, sent, done int64, o Outcome, warm bool) bool {
	w.mu.Lock()
	w.calling = false
	if w.closed {
		w.mu.Unlock()
		return false
	}
	if warm {
		w.t.warm++
		w.mu.Unlock()
		return true
	}
	w.t.inflight = false
	w.t.byClass[o.Class]++
	if o.Class == OK {
		w.record(w.h.resp, done-intended)
		w.record(w.h.svc, done-sent)
		w.record(w.h.lag, sent-intended)
	} else {
		if w.codes == nil {
			w.codes = make(map[codeKey]uint64)
		}
		w.codes[codeKey{o.Class, o.Code}]++
	}
	w.mu.Unlock()
	return true
}

// leave says the worker has returned.
func (w *workerRec) leave() {
	w.mu.Lock()
	w.gone = true
	w.mu.Unlock()
}

// settled reports, once the recording has closed, whether the worker will
// take no more jobs: it has returned, or it is in a call, after which end
// tells it to stop. It returns the worker's queued count with it.
func (w *workerRec) settled() (bool, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone || w.calling, w.t.queued
}

func (w *workerRec) record(h *hdr.Histogram, v int64) {
	if v < 0 {
		v = 0
	}
	if v > HistHighest {
		v = HistHighest
		w.t.clamped++
	}
	_ = h.RecordValue(v) // in range by construction
}

// collector turns the workers' recordings into intervals and totals. It is
// driven by one goroutine.
type collector struct {
	workers  []*workerRec
	spare    hists
	interval hists
	total    hists
	last     []tally // each worker's tally at the previous rotation
	dropped  int64   // values lost merging: a bug if ever non-zero
	startMs  int64   // wall-clock start of the run, ms since the epoch
	log      bytes.Buffer
	logw     *hdr.HistogramLogWriter
	tags     [3]string
}

func newCollector(workers []*workerRec, start time.Time, label string) *collector {
	c := &collector{
		workers:  workers,
		spare:    newHists(),
		interval: newHists(),
		total:    newHists(),
		last:     make([]tally, len(workers)),
		startMs:  start.UnixMilli(),
		tags:     [3]string{TagResponse, TagService, TagLag},
	}
	c.logw = hdr.NewHistogramLogWriter(&c.log)
	c.logw.SetBaseTime(c.startMs)
	_ = c.logw.OutputLogFormatVersion()
	_ = c.logw.OutputComment(fmt.Sprintf("mcpbench %s; values in nanoseconds; tags: response = done-intended, service = done-sent, lag = sent-intended", label))
	_ = c.logw.OutputStartTime(c.startMs)
	_ = c.logw.OutputBaseTime(c.startMs)
	_ = c.logw.OutputLegend()
	return c
}

// rotate collects the interval [from, to) (offsets from the run's start).
// With final set, the workers are closed: what they finish later is not
// recorded, and what they have out now is reported in flight.
func (c *collector) rotate(from, to time.Duration, warm, final bool) Interval {
	iv := Interval{Start: from, End: to, Warmup: warm}
	for i, w := range c.workers {
		w.mu.Lock()
		w.h, c.spare = c.spare, w.h
		t := w.t
		if final {
			w.closed = true
		}
		w.mu.Unlock()
		c.dropped += c.interval.merge(c.spare)
		c.spare.reset()
		for k := range t.byClass {
			iv.ByClass[k] += t.byClass[k] - c.last[i].byClass[k]
		}
		iv.Started += t.started - c.last[i].started
		if t.inflight {
			iv.InFlight++
		}
		c.last[i] = t
	}
	iv.Response = PercentilesOf(c.interval.resp)
	iv.Service = PercentilesOf(c.interval.svc)
	iv.Lag = PercentilesOf(c.interval.lag)
	// Warm-up calls never enter the histograms, but measured calls that end
	// before a late rotation at the warm-up's end do: log whatever is there.
	if !warm || c.interval.resp.TotalCount() > 0 {
		for k, h := range []*hdr.Histogram{c.interval.resp, c.interval.svc, c.interval.lag} {
			h.SetStartTimeMs(c.startMs + from.Milliseconds())
			h.SetEndTimeMs(c.startMs + to.Milliseconds())
			h.SetTag(c.tags[k])
			_ = c.logw.OutputIntervalHistogram(h) // to a bytes.Buffer: cannot fail
		}
	}
	c.dropped += c.total.merge(c.interval)
	c.interval.reset()
	return iv
}

// tallies sums the workers' tallies as of the last rotation, and their
// error codes.
func (c *collector) tallies() (tally, map[codeKey]uint64) {
	var sum tally
	codes := map[codeKey]uint64{}
	for i, t := range c.last {
		for k := range t.byClass {
			sum.byClass[k] += t.byClass[k]
		}
		sum.started += t.started
		sum.warm += t.warm
		sum.clamped += t.clamped
		sum.queued += t.queued
		w := c.workers[i]
		w.mu.Lock()
		for k, n := range w.codes {
			codes[k] += n
		}
		w.mu.Unlock()
	}
	return sum, codes
}
