package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// fakeDriver answers in process. behave decides each call by its number
// (the cold call made during setup is number 0).
type fakeDriver struct {
	behave  func(n int64) (time.Duration, Outcome)
	calls   atomic.Int64
	mu      sync.Mutex
	byClass map[Class]int
	block   chan struct{}
	closed  sync.Once
	stream  bool // on the event loop (stream_test.go)
}

// blockForever as a delay makes a call wait until its deadline or Close.
const blockForever = time.Duration(-1)

func newFake(behave func(n int64) (time.Duration, Outcome)) *fakeDriver {
	if behave == nil {
		behave = func(int64) (time.Duration, Outcome) { return 0, Outcome{} }
	}
	return &fakeDriver{behave: behave, byClass: map[Class]int{}, block: make(chan struct{})}
}

func (d *fakeDriver) Open(ctx context.Context, worker int) (Conn, error) { return fakeConn{d}, nil }
func (d *fakeDriver) Close() error                                       { d.closed.Do(func() { close(d.block) }); return nil }

type fakeConn struct{ d *fakeDriver }

func (c fakeConn) Call(deadline time.Time) Outcome {
	n := c.d.calls.Add(1) - 1
	delay, o := c.d.behave(n)
	switch {
	case delay == blockForever:
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-c.d.block:
			o = Outcome{Class: ClassTransport}
		case <-t.C:
			o = Outcome{Class: ClassTimeout}
		}
	case delay > 0:
		time.Sleep(delay)
	}
	if n > 0 {
		c.d.mu.Lock()
		c.d.byClass[o.Class]++
		c.d.mu.Unlock()
	}
	return o
}
func (c fakeConn) Close() error { return nil }

func constantPacer(t testing.TB, rate float64) Pacer {
	t.Helper()
	p, err := Constant(rate)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRun(t *testing.T, ctx context.Context, cfg Config) *Result {
	t.Helper()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := res.Accounting.Check(); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunSchedulesExactly(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		scheduled uint64
		calls     int64 // what the driver saw, the cold call included
	}{
		{"open loop by duration", Config{Pacer: constantPacer(t, 2000), Duration: 500 * time.Millisecond}, 1000, 1001},
		{"open loop by count", Config{Pacer: constantPacer(t, 5000), Requests: 300}, 300, 301},
		{"open loop count before duration", Config{Pacer: constantPacer(t, 5000), Requests: 100, Duration: time.Minute}, 100, 101},
		{"warm-up excluded", Config{Pacer: constantPacer(t, 1000), Warmup: 200 * time.Millisecond, Duration: 300 * time.Millisecond}, 300, 501},
		{"closed loop by count", Config{Closed: true, Connections: 4, Requests: 1000}, 1000, 1001},
	}
	for _, tc := range tests {
		engines(t, func(t *testing.T, e engine) {
			d := newFakeOn(e.stream, nil)
			defer d.Close()
			tc.cfg.Driver, tc.cfg.Batch = d, e.batch
			res := mustRun(t, context.Background(), tc.cfg)
			a := res.Accounting
			if a.Scheduled != tc.scheduled || a.OK != tc.scheduled {
				t.Fatalf("scheduled %d ok %d, want %d of each", a.Scheduled, a.OK, tc.scheduled)
			}
			if got := d.calls.Load(); got != tc.calls {
				t.Fatalf("driver saw %d calls, want %d", got, tc.calls)
			}
			if res.Response.Count != int64(tc.scheduled) {
				t.Fatalf("response histogram holds %d values, want %d", res.Response.Count, tc.scheduled)
			}
			if len(res.Warnings) > 0 {
				t.Fatalf("%s: warnings: %v", tc.name, res.Warnings)
			}
			// (Kernel stamps start a moment after they are asked for: a
			// short run may end before.)
			if stamped := res.ReplyTimes == "kernel"; stamped && e.batch == 0 || !stamped && e.batch > 0 && tc.cfg.Duration >= 300*time.Millisecond {
				t.Fatalf("%s: reply times %q with a %v window", tc.name, res.ReplyTimes, e.batch)
			}
		})
	}
}

func TestRunClassifiesErrors(t *testing.T) {
	outcomes := []Outcome{
		{Class: OK}, {Class: ClassTransport}, {Class: ClassHTTP, Code: 503},
		{Class: ClassProtocol, Code: -32601}, {Class: ClassRateLimited, Code: 429}, {Class: ClassTimeout},
	}
	engines(t, func(t *testing.T, e engine) {
		testRunClassifiesErrors(t, outcomes, newFakeOn(e.stream, func(n int64) (time.Duration, Outcome) { return 0, outcomes[n%int64(len(outcomes))] }), e.batch)
	})
}

func testRunClassifiesErrors(t *testing.T, outcomes []Outcome, d *fakeDriver, batch time.Duration) {
	defer d.Close()
	res := mustRun(t, context.Background(), Config{Driver: d, Pacer: constantPacer(t, 3000), Requests: 600, Connections: 3, Batch: batch})
	a := res.Accounting
	d.mu.Lock() // a stream's server goroutine wrote it (stream_test.go)
	defer d.mu.Unlock()
	for _, o := range outcomes {
		want := uint64(d.byClass[o.Class])
		got := a.OK
		if o.Class != OK {
			got = a.ByClass[o.Class.String()]
		}
		if got != want {
			t.Errorf("%s: counted %d, driver returned %d", o.Class, got, want)
		}
	}
	if a.ByCode["http 503"] == 0 || a.ByCode["protocol -32601"] == 0 || a.ByCode["rate_limited 429"] == 0 {
		t.Errorf("codes not kept: %v", a.ByCode)
	}
	if a.OK+a.Errors != 600 || res.Response.Count != int64(a.OK) {
		t.Errorf("ok %d + errors %d ≠ 600, or histogram %d ≠ ok", a.OK, a.Errors, res.Response.Count)
	}
}

func TestRunCancelledStillAccounts(t *testing.T) { engines(t, testRunCancelledStillAccounts) }

func testRunCancelledStillAccounts(t *testing.T, e engine) {
	d := newFakeOn(e.stream, func(n int64) (time.Duration, Outcome) {
		if n%7 == 3 {
			return time.Millisecond, Outcome{Class: ClassHTTP, Code: 500}
		}
		return 0, Outcome{}
	})
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	res, err := Run(ctx, Config{Driver: d, Pacer: constantPacer(t, 1000), Duration: time.Minute, Connections: 4, Batch: e.batch})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Fatal("not marked interrupted")
	}
	a := res.Accounting
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	if a.Scheduled == 0 || a.Scheduled >= 60000 {
		t.Fatalf("scheduled %d: want the part of the schedule before the cancel", a.Scheduled)
	}
	if done := uint64(d.calls.Load() - 1); a.OK+a.Errors > done {
		t.Fatalf("counted %d completed calls, driver made %d", a.OK+a.Errors, done)
	}
}

func TestRunAbandonsStuckCalls(t *testing.T) { engines(t, testRunAbandonsStuckCalls) }

func testRunAbandonsStuckCalls(t *testing.T, e engine) {
	const conns = 4
	d := newFakeOn(e.stream, func(n int64) (time.Duration, Outcome) {
		if n > 50 {
			return blockForever, Outcome{}
		}
		return 0, Outcome{}
	})
	res, err := Run(context.Background(), Config{
		Driver: d, Pacer: constantPacer(t, 1000), Duration: 200 * time.Millisecond,
		Connections: conns, Grace: 100 * time.Millisecond, Timeout: time.Minute, Batch: e.batch,
	})
	d.Close() // releases the stuck calls
	if err != nil {
		t.Fatal(err)
	}
	a := res.Accounting
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	if a.InFlight != conns {
		t.Fatalf("in flight %d, want %d (every worker stuck)", a.InFlight, conns)
	}
	if a.OK != 50 {
		t.Fatalf("ok %d, want the 50 calls before the stall", a.OK)
	}
	if a.Queued == 0 || a.Scheduled != 200 {
		t.Fatalf("queued %d of %d scheduled: want the rest of the 200 queued", a.Queued, a.Scheduled)
	}
	// The target is the schedule's rate, not scheduled calls over a run
	// that the wait for stuck calls made longer.
	if res.TargetRate < 990 || res.TargetRate > 1010 || res.Duration < 250*time.Millisecond {
		t.Errorf("target %.0f/s over a %v run; want 1000/s", res.TargetRate, res.Duration)
	}
	if len(res.Warnings) == 0 {
		t.Fatal("no warning about calls missing from the tail")
	}
}

func TestRunTimeouts(t *testing.T) { engines(t, testRunTimeouts) }

func testRunTimeouts(t *testing.T, e engine) {
	d := newFakeOn(e.stream, func(n int64) (time.Duration, Outcome) { return blockForever, Outcome{} })
	defer d.Close()
	res := mustRun(t, context.Background(), Config{
		Driver: d, Pacer: constantPacer(t, 200), Requests: 10, Connections: 10, Timeout: 20 * time.Millisecond, Batch: e.batch,
	})
	if got := res.Accounting.ByClass["timeout"]; got != 10 {
		t.Fatalf("timeouts %d, want 10 (%+v)", got, res.Accounting)
	}
}

func TestRunIntervalsAndLog(t *testing.T) {
	d := newFake(nil)
	defer d.Close()
	res := mustRun(t, context.Background(), Config{
		Driver: d, Pacer: constantPacer(t, 2000), Warmup: 150 * time.Millisecond,
		Duration: 450 * time.Millisecond, Interval: 100 * time.Millisecond,
	})
	var ok uint64
	var warm int
	for i, iv := range res.Intervals {
		if iv.Warmup {
			warm++ // it may hold measured calls that ended before a late rotation
		}
		ok += iv.ByClass[OK]
		if i > 0 && iv.Start != res.Intervals[i-1].End {
			t.Errorf("interval %d starts at %v, previous ended at %v", i, iv.Start, res.Intervals[i-1].End)
		}
	}
	if warm != 2 || res.Intervals[1].End != 150*time.Millisecond {
		t.Errorf("want two warm-up intervals ending at the warm-up's end, got %d, first measured at %v", warm, res.Intervals[1].End)
	}
	if ok != res.Accounting.OK {
		t.Errorf("intervals count %d ok, totals %d", ok, res.Accounting.OK)
	}
	// The interval log reads back to the same totals, per tag.
	r := hdr.NewHistogramLogReader(bytes.NewReader(res.IntervalLog))
	counts := map[string]int64{}
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil || h == nil {
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		counts[h.Tag()] += h.TotalCount()
	}
	for _, tag := range []string{TagResponse, TagService, TagLag} {
		if counts[tag] != int64(res.Accounting.OK) {
			t.Errorf("log tag %s holds %d values, want %d", tag, counts[tag], res.Accounting.OK)
		}
	}
}

func TestRunConfigErrors(t *testing.T) {
	p := constantPacer(t, 10)
	d := newFake(nil)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no driver", Config{Pacer: p, Duration: time.Second}},
		{"no rate", Config{Driver: d, Duration: time.Second}},
		{"closed with rate", Config{Driver: d, Closed: true, Pacer: p, Duration: time.Second}},
		{"unbounded", Config{Driver: d, Pacer: p}},
		{"negative connections", Config{Driver: d, Pacer: p, Duration: time.Second, Connections: -1}},
		{"negative duration", Config{Driver: d, Pacer: p, Duration: -time.Second}},
		{"tiny interval", Config{Driver: d, Pacer: p, Duration: time.Second, Interval: time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tc.cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

type failingDriver struct{ *fakeDriver }

func (*failingDriver) Open(ctx context.Context, worker int) (Conn, error) {
	return nil, errors.New("connection refused")
}

func TestRunSetupError(t *testing.T) {
	_, err := Run(context.Background(), Config{Driver: &failingDriver{newFake(nil)}, Pacer: constantPacer(t, 10), Duration: time.Second})
	if !errors.Is(err, ErrSetup) {
		t.Fatalf("err = %v, want ErrSetup", err)
	}
}

func BenchmarkRecord(b *testing.B) {
	w := &workerRec{h: newHists()}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.begin(false, false)
		w.end(0, int64(i%1000), int64(i%100000)+50000, Outcome{}, false)
	}
}

func BenchmarkRunClosedInProcess(b *testing.B) {
	d := newFake(nil)
	defer d.Close()
	b.ReportAllocs()
	res, err := Run(context.Background(), Config{Driver: d, Closed: true, Connections: 2, Requests: uint64(b.N)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Response.P99), "p99-ns")
}

// TestRunLostJobIsAnAccountingError: a measured job that vanishes uncounted
// — skipped by the dispatcher, or taken by a worker and neither sent nor
// counted — must unbalance the books.
func TestRunLostJobIsAnAccountingError(t *testing.T) {
	for _, at := range []string{"dispatch", "worker"} {
		engines(t, func(t *testing.T, e engine) {
			d := newFakeOn(e.stream, nil)
			defer d.Close()
			var n atomic.Int64
			res, err := Run(context.Background(), Config{
				Driver: d, Pacer: constantPacer(t, 2000), Duration: 100 * time.Millisecond, Connections: 2, Batch: e.batch,
				lose: func(where string) bool { return where == at && n.Add(1) == 10 },
			})
			if n.Load() < 10 {
				t.Fatalf("the seam at %q saw %d jobs: nothing was lost", at, n.Load())
			}
			if res == nil {
				t.Fatalf("no result (err %v)", err)
			}
			if !errors.Is(err, ErrAccounting) {
				t.Fatalf("err = %v, want an ErrAccounting (accounting %+v)", err, res.Accounting)
			}
			if len(res.Warnings) == 0 {
				t.Errorf("the mismatch is not among the result's warnings")
			}
			t.Log(err)
		})
	}
}

// hangOneDriver's worker 0 hangs on every call after its first `after`
// (the cold call included) until Close; the other workers take delay.
type hangOneDriver struct {
	delay time.Duration
	after int
	block chan struct{}
	once  sync.Once
}

func (d *hangOneDriver) Open(ctx context.Context, worker int) (Conn, error) {
	return &hangOneConn{d: d, hang: worker == 0}, nil
}
func (d *hangOneDriver) Close() error { d.once.Do(func() { close(d.block) }); return nil }

type hangOneConn struct {
	d     *hangOneDriver
	hang  bool
	calls int
}

func (c *hangOneConn) Call(deadline time.Time) Outcome {
	if c.calls++; c.hang && c.calls > c.d.after {
		<-c.d.block
		return Outcome{Class: ClassTransport}
	}
	time.Sleep(c.d.delay)
	return Outcome{}
}
func (c *hangOneConn) Close() error { return nil }

// TestRunQueuedEverywhereBalances: an interrupted run in which requests
// queue in all three places — due but never handed out by the dispatcher,
// taken by a worker after the halt, left in the queue behind a worker that
// hangs — still balances, each counted where it queued.
func TestRunQueuedEverywhereBalances(t *testing.T) {
	d := &hangOneDriver{delay: 10 * time.Millisecond, after: 5, block: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	res, err := Run(ctx, Config{
		Driver: d, Pacer: constantPacer(t, 1000), Duration: time.Minute,
		Connections: 2, Grace: time.Second, Timeout: time.Minute,
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	a := res.Accounting
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	// About 150 fall due before the cancel; a busy machine (-race, a full
	// make test) fires it late or schedules fewer, so ask for 100 and most
	// of them queued (seen: 138 scheduled, 119 queued).
	if a.InFlight != 1 || a.Scheduled < 100 || a.Queued*10 < a.Scheduled*6 {
		t.Fatalf("accounting %+v: want one call in flight and most of the ~150 scheduled queued", a)
	}
}

func TestBooksCheck(t *testing.T) {
	// An interrupted open-loop run that balances: 100 due, 90 handed out
	// and 10 left due; 80 sent, 3 dropped, 7 left in the queue; 70 ok, 8
	// errors, 2 in flight.
	good := books{scheduled: 100, created: 90, leftDue: 10, dropped: 3, leftQueued: 7,
		sent: 80, ok: 70, errors: 8, inFlight: 2, resp: 70, svc: 70, lag: 70}
	tests := []struct {
		name  string
		edit  func(*books)
		wantE bool
	}{
		{"balanced", func(*books) {}, false},
		{"closed loop balanced", func(b *books) {
			*b = books{closed: true, sent: 80, ok: 70, errors: 8, inFlight: 2, resp: 70, svc: 70, lag: 70}
		}, false},
		{"a due request never counted by the dispatcher", func(b *books) { b.leftDue-- }, true},
		{"one more handed out than scheduled", func(b *books) { b.created++ }, true},
		{"a job lost between dispatcher and worker", func(b *books) { b.leftQueued-- }, true},
		{"a drop not counted", func(b *books) { b.dropped-- }, true},
		{"a sent call with no outcome", func(b *books) { b.ok--; b.resp--; b.svc--; b.lag-- }, true},
		{"response histogram short", func(b *books) { b.resp-- }, true},
		{"service histogram long", func(b *books) { b.svc++ }, true},
		{"lag histogram short", func(b *books) { b.lag-- }, true},
		{"closed loop, histogram short", func(b *books) { *b = books{closed: true, sent: 1, ok: 1} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := good
			tc.edit(&b)
			err := b.check()
			if got := errors.Is(err, ErrAccounting); got != tc.wantE || (err != nil) != tc.wantE {
				t.Fatalf("check() = %v, want an ErrAccounting: %v", err, tc.wantE)
			}
		})
	}
}
