package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one run. The zero value of each optional field means the
// documented default; Run copies and validates it.
type Config struct {
	Name   string // names the run in results; default "run"
	Target string // what is under load, for the record (a URL, a command)
	Driver Driver

	// Pacer schedules an open-loop run. With Closed set it must be nil.
	Pacer Pacer
	// Closed makes a closed-loop run: Connections workers call back to back,
	// as fast as the stack answers. Every output labels it as such.
	Closed bool
	// Connections is the number of workers, each with its own Conn: the
	// most calls in flight at once. Default 16.
	Connections int

	Duration time.Duration // measured segment; 0 = bounded by Requests only
	Requests uint64        // most measured requests to schedule; 0 = bounded by Duration only
	Warmup   time.Duration // run before the measured segment, not recorded
	Timeout  time.Duration // per call; default 10s
	// Grace is how long the run waits, once the schedule has ended or ctx is
	// cancelled, for calls still queued or in flight. What is left then is
	// reported in flight or queued. Default 5s.
	Grace time.Duration
	// Interval is the length of a progress interval, default 1s.
	Interval time.Duration

	// OnInterval, when set, is called after each interval from the
	// collecting goroutine; it must return quickly.
	OnInterval func(Interval)
	// ServerCPU, when set, reads the CPU time the server under load has used
	// so far; the run reads it at the start and the end of the measured
	// segment and reports the difference per call.
	ServerCPU func() (time.Duration, error)
	// Sleep waits until a deadline. Default: a precise sleeper on a locked
	// OS thread (time.Sleep wakes up to a millisecond late on Linux).
	Sleep func(until time.Time, stop <-chan struct{})

	// Engine chooses what makes the calls: EngineAuto (the default),
	// EngineLoop or EngineWorkers.
	Engine string
	// Batch is the event loop's batching window in an open loop: it wakes
	// for the schedule at most once per window and sends everything due
	// then. A request is never sent before it is due; it may leave up to
	// the window late, and that lateness counts (latency runs from the
	// intended start; the lag histogram shows it). Replies are timed by
	// the kernel's receive timestamps and, while no request waits for a
	// connection, read at the next window (Result.ReplyTimes). 0, the
	// default: a wake-up at each due time. BatchAuto: AutoBatch of the
	// schedule's rate.
	Batch time.Duration

	// Shard, with N > 1, makes this generator shard I of N of the
	// schedule (Shard): its own connections, its share of the requests,
	// and Requests counts the whole schedule's measured requests.
	Shard ShardSpec
	// StartAt, when set, is the wall-clock instant at which the schedule
	// starts (after the setup): shards given one instant start together.
	// A run that reaches it late fails with ErrLate.
	StartAt time.Time

	// lose is a test seam: a measured job for which it returns true vanishes
	// uncounted at the place it names ("dispatch", "worker"), as a bug
	// would lose it.
	lose func(at string) bool
}

// ErrConfig is wrapped by every error about a Config that cannot run.
var ErrConfig = errors.New("bad run configuration")

func (c *Config) normalize() error {
	if c.Name == "" {
		c.Name = "run"
	}
	if c.Connections == 0 {
		c.Connections = 16
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Grace == 0 {
		c.Grace = 5 * time.Second
	}
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	switch {
	case c.Driver == nil:
		return fmt.Errorf("%w: no driver", ErrConfig)
	case c.Closed && c.Pacer != nil:
		return fmt.Errorf("%w: a closed-loop run takes no rate", ErrConfig)
	case !c.Closed && c.Pacer == nil:
		return fmt.Errorf("%w: an open-loop run needs a rate (or ask for a closed loop)", ErrConfig)
	case c.Connections < 1:
		return fmt.Errorf("%w: connections must be at least 1, got %d", ErrConfig, c.Connections)
	case c.Duration < 0 || c.Warmup < 0 || c.Timeout < 0 || c.Grace < 0 || c.Interval < 0:
		return fmt.Errorf("%w: durations must not be negative", ErrConfig)
	case c.Duration == 0 && c.Requests == 0:
		return fmt.Errorf("%w: give a duration, a request count, or both, so that the run ends", ErrConfig)
	case c.Interval < 10*time.Millisecond:
		return fmt.Errorf("%w: interval %v is too short (at least 10ms)", ErrConfig, c.Interval)
	case c.Batch < 0 && c.Batch != BatchAuto || c.Batch > time.Second:
		return fmt.Errorf("%w: batching window %v: want 0 to 1s, or auto", ErrConfig, c.Batch)
	}
	sd, stream := c.Driver.(StreamDriver)
	stream = stream && sd.Streamable()
	switch {
	case c.Engine != EngineAuto && c.Engine != EngineLoop && c.Engine != EngineWorkers:
		return fmt.Errorf("%w: engine %q: want %q or %q", ErrConfig, c.Engine, EngineLoop, EngineWorkers)
	case c.Engine == EngineLoop && !stream:
		return fmt.Errorf("%w: this driver cannot run on the event loop (engine %q); use %q", ErrConfig, EngineLoop, EngineWorkers)
	}
	if c.Sleep == nil {
		c.Sleep = preciseSleep
	}
	if c.Shard.N > 1 {
		if c.Closed {
			return fmt.Errorf("%w: a closed loop has no schedule to shard: give each generator its own --connections", ErrConfig)
		}
		if c.Requests > 0 {
			first := uint64(0)
			if c.Warmup > 0 {
				first = c.Pacer.Hits(c.Warmup - 1)
			}
			c.Requests = c.Shard.shareOf(first, c.Requests)
			if c.Requests == 0 {
				return fmt.Errorf("%w: shard %s of a schedule of so few requests has none", ErrConfig, c.Shard)
			}
		}
		c.Pacer = Shard{P: c.Pacer, I: c.Shard.I, N: c.Shard.N}
	}
	return nil
}

// ErrLate: the start instant (StartAt) had passed when the schedule was to
// start.
var ErrLate = errors.New("start instant passed")

// job is one scheduled request: when it was due, in nanoseconds from the
// run's start, and whether it falls in the warm-up.
type job struct {
	due  int64
	warm bool
}

// run is the state of one Run call.
type run struct {
	cfg   Config
	start time.Time
	end   time.Duration // end of the measured segment; 0 = none
	// lastDue is when the schedule's last request falls due (open loop; 0 =
	// unknown): the grace starts then even if the dispatcher is still
	// waiting for a free worker.
	lastDue time.Duration
	conns   []Conn
	streams []Stream // the event loop's connections, when it makes the calls
	loop    *loop
	// stamped: the loop timed its replies by the kernel's receive
	// timestamps (Result.ReplyTimes), set as it returns.
	stamped atomic.Bool
	recs    []*workerRec
	stop    chan struct{} // closed to stop scheduling and calling
	stopped atomic.Bool
	// stoppedAt is when the run was halted; written before stop is closed.
	stoppedAt time.Duration
	claimed   atomic.Uint64 // closed loop: measured calls claimed
	jobs      chan job      // open loop: from the dispatcher to the workers

	// The open loop's books, each kept by one goroutine where it happens.
	created    uint64 // measured jobs handed out (dispatcher)
	leftDue    uint64 // measured jobs due by the halt, never handed out (dispatcher)
	leftQueued uint64 // measured jobs left in jobs at the end (collector, once settled)

	scheduleDone chan struct{} // closed once nothing more will be scheduled
	scheduleOnce sync.Once
	dispatchDone chan struct{} // closed when the dispatcher has returned

	// The CPU and byte marks at the start of the measured segment, taken
	// by whichever goroutine first crosses into it (the dispatcher, or a
	// closed-loop worker): a collector woken late must not take them
	// after the calls they should precede.
	startMark  marks
	startOnce  sync.Once
	startTaken atomic.Bool
}

// markStart takes the measured segment's start marks, once.
func (r *run) markStart() {
	r.startOnce.Do(func() {
		r.mark(&r.startMark, 0)
		r.startTaken.Store(true)
	})
}

// Run carries out one run and returns what it measured. A cancelled ctx ends
// the run early; the result then says Interrupted and still accounts for
// every request. Run returns an error only when the run could not start
// (ErrConfig, or ErrSetup from the driver); a run whose books do not balance
// returns its result together with an ErrAccounting error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, stop: make(chan struct{}), scheduleDone: make(chan struct{}), dispatchDone: make(chan struct{})}
	res := &Result{
		Name: cfg.Name, Target: cfg.Target, Connections: cfg.Connections,
		Warmup: cfg.Warmup, Timeout: cfg.Timeout, Model: "open",
	}
	if cfg.Closed {
		res.Model, res.Schedule = "closed", fmt.Sprintf("closed loop, %d connections", cfg.Connections)
	} else {
		res.Schedule = cfg.Pacer.String()
	}
	sd, useLoop := cfg.Driver.(StreamDriver)
	useLoop = useLoop && sd.Streamable() && cfg.Engine != EngineWorkers
	res.Engine = EngineWorkers
	if useLoop {
		res.Engine = EngineLoop
		if cfg.Batch == BatchAuto {
			res.Batch = "auto"
		} else if !cfg.Closed {
			res.Batch = cfg.Batch.String()
		}
	}
	res.Shard = cfg.Shard.String()
	if !cfg.StartAt.IsZero() {
		if late := time.Since(cfg.StartAt); late > 0 {
			return nil, fmt.Errorf("%w: %s, %v ago: give a later --start-at", ErrLate, cfg.StartAt.UTC().Format(time.RFC3339Nano), late.Round(time.Millisecond))
		}
		at := cfg.StartAt.UTC()
		res.StartAt, res.Clock = &at, ReadClock()
	}
	if err := r.setup(ctx, &res.Setup, useLoop); err != nil {
		return nil, err
	}
	defer r.closeConns()
	if !cfg.Closed || useLoop {
		defer reserveDispatcherP()()
	}

	r.recs = make([]*workerRec, cfg.Connections)
	for i := range r.recs {
		r.recs[i] = &workerRec{h: newHists(), queue: !cfg.Closed}
	}
	if cfg.Duration > 0 {
		r.end = cfg.Warmup + cfg.Duration
		r.lastDue = r.end
	}
	if !cfg.Closed && cfg.Requests > 0 {
		first := cfg.Pacer.Hits(cfg.Warmup - 1)
		if cfg.Warmup == 0 {
			first = 0
		}
		if d, ok := cfg.Pacer.Due(first + cfg.Requests - 1); ok && (r.lastDue == 0 || d < r.lastDue) {
			r.lastDue = d + 1
		}
	}
	r.start = time.Now()
	if !cfg.StartAt.IsZero() {
		// The schedule's origin is the instant itself (as a reading of the
		// monotonic clock): requests due while this thread wakes are late,
		// and that counts.
		wait := time.Until(cfg.StartAt)
		if wait < 0 {
			return nil, fmt.Errorf("%w: the setup ended %v after %s: give a later --start-at", ErrLate, (-wait).Round(time.Millisecond), cfg.StartAt.UTC().Format(time.RFC3339Nano))
		}
		r.start = r.start.Add(wait)
		stop, slept := make(chan struct{}), make(chan struct{})
		go func() {
			select {
			case <-ctx.Done():
				close(stop)
			case <-slept:
			}
		}()
		cfg.Sleep(r.start, stop)
		close(slept)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	res.Started = r.start
	col := newCollector(r.recs, r.start, cfg.Name)

	var wg sync.WaitGroup
	if useLoop {
		l, err := r.newLoop(ctx, sd, r.streams)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		r.loop = l
		wg.Add(1)
		go func() { defer wg.Done(); l.run() }()
	} else if cfg.Closed {
		for i := range r.recs {
			wg.Add(1)
			go func() { defer wg.Done(); r.closedWorker(i) }()
		}
	} else {
		r.jobs = make(chan job, cfg.Connections)
		for i := range r.recs {
			wg.Add(1)
			go func() { defer wg.Done(); r.openWorker(i) }()
		}
		go r.dispatch()
	}
	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()

	m := r.collect(ctx, col, res, workersDone)
	if r.stamped.Load() {
		res.ReplyTimes = "kernel"
	}
	if !cfg.Closed {
		r.settle(col)
	}
	if err := r.finish(res, col, m); err != nil {
		return res, err
	}
	return res, nil
}

// setup prepares the driver, opens every worker's connection (or stream)
// in parallel and makes one cold call, timing each step.
func (r *run) setup(ctx context.Context, s *Setup, streams bool) error {
	d := r.cfg.Driver
	if t, ok := d.(TLSReporter); ok {
		t.TakeTLS() // an earlier run's
	}
	if c, ok := d.(Counter); ok {
		c.TakeCounters()
	}
	if p, ok := d.(Preparer); ok {
		t := time.Now()
		if err := p.Prepare(ctx); err != nil {
			return fmt.Errorf("%w: prepare: %w", ErrSetup, err)
		}
		s.Prepare = time.Since(t)
	}
	if p, ok := d.(PhaseReporter); ok {
		s.Phases = p.SetupPhases()
	}
	n := r.cfg.Connections
	if streams {
		r.streams = make([]Stream, n)
	} else {
		r.conns = make([]Conn, n)
	}
	errs := make([]error, n)
	took := make([]time.Duration, n)
	t := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			if streams {
				r.streams[i], errs[i] = d.(StreamDriver).OpenStream(ctx, i)
				if errors.Is(errs[i], ErrDial) {
					errs[i] = nil // starts broken (see ErrDial)
				}
			} else {
				r.conns[i], errs[i] = d.Open(ctx, i)
			}
			took[i] = time.Since(t)
		}()
	}
	wg.Wait()
	s.OpenTotal = time.Since(t)
	for i, err := range errs {
		s.OpenMax = max(s.OpenMax, took[i])
		if err != nil {
			r.closeConns()
			return fmt.Errorf("%w: open connection %d: %w", ErrSetup, i, err)
		}
	}
	if streams && r.cfg.Batch != 0 && !r.cfg.Closed {
		for _, s := range r.streams {
			if s != nil {
				_ = stampSocket(s.Fd()) // the loop asks again, and minds a refusal
			}
		}
	}
	t = time.Now()
	if streams {
		// A cold call that timed out or broke, or after which the server
		// closes, leaves its connection in no state to carry calls (a late
		// reply would be taken for the next call's): it gets a new one.
		if r.streams[0] == nil {
			// not connected: the calls will say so
		} else if _, keep := callStream(r.streams[0], r.cfg.Timeout); !keep {
			_ = r.streams[0].Close()
			r.streams[0] = nil
			s, err := d.(StreamDriver).OpenStream(ctx, 0)
			if err != nil {
				r.closeConns()
				return fmt.Errorf("%w: open connection 0 again after the cold call failed: %w", ErrSetup, err)
			}
			r.streams[0] = s
		}
	} else {
		r.conns[0].Call(t.Add(r.cfg.Timeout))
	}
	s.FirstCall = time.Since(t)
	return nil
}

func (r *run) closeConns() {
	for i, s := range r.streams {
		if s != nil {
			_ = s.Close()
			r.streams[i] = nil
		}
	}
	for i, c := range r.conns {
		if c != nil {
			_ = c.Close()
			r.conns[i] = nil
		}
	}
}

// now is the time since the run's start, in nanoseconds (monotonic).
func (r *run) now() int64 { return int64(time.Since(r.start)) }

// dispatch hands out jobs as they fall due, then closes r.jobs. A slot that
// finds every worker busy waits in the channel, or here: its latency still
// counts from when it was due. Halted, it counts the measured jobs that were
// due and never handed out.
func (r *run) dispatch() {
	defer close(r.dispatchDone)
	defer r.scheduleEnded()
	defer close(r.jobs)
	runtime.LockOSThread() // for the precise sleeper: its own thread, low timer slack
	defer runtime.UnlockOSThread()
	lowerTimerSlack()
	for n := uint64(0); ; n++ {
		j, more := r.slot(n, r.created)
		if !more {
			return
		}
		// Never early: every job handed out was due before the halt.
		for j.due > r.now() && !r.stopped.Load() {
			r.cfg.Sleep(r.start.Add(time.Duration(j.due)), r.stop)
		}
		if r.stopped.Load() {
			r.countLeftDue(n)
			return
		}
		if !j.warm {
			r.markStart()
			if r.cfg.lose != nil && r.cfg.lose("dispatch") {
				continue
			}
		}
		select {
		case r.jobs <- j:
			if !j.warm {
				r.created++
			}
		case <-r.stop:
			r.countLeftDue(n)
			return
		}
	}
}

// slot returns request n of the schedule, given the measured requests
// before it, or false when the schedule ends before n.
func (r *run) slot(n, measured uint64) (job, bool) {
	d, ok := r.cfg.Pacer.Due(n)
	if !ok || (r.end > 0 && d >= r.end) {
		return job{}, false
	}
	warm := d < r.cfg.Warmup
	if !warm && r.cfg.Requests > 0 && measured >= r.cfg.Requests {
		return job{}, false
	}
	return job{due: int64(d), warm: warm}, true
}

// countLeftDue counts, once the run is halted, the measured requests from n
// on that were due by the halt: queued at the dispatcher, never handed out.
func (r *run) countLeftDue(n uint64) {
	<-r.stop // r.stoppedAt is written before stop is closed
	for ; ; n++ {
		j, more := r.slot(n, r.created+r.leftDue)
		if !more || j.due > int64(r.stoppedAt) {
			return
		}
		if !j.warm {
			r.leftDue++
		}
	}
}

// scheduleEnded says that nothing more will be scheduled: the grace for
// the calls still queued or out starts now.
func (r *run) scheduleEnded() { r.scheduleOnce.Do(func() { close(r.scheduleDone) }) }

// openWorker makes the calls handed to it. Once the run is halted or the
// recording closed it returns, counting the job in its hand queued; the
// collector counts what is left in r.jobs.
func (r *run) openWorker(i int) {
	conn, rec := r.conns[i], r.recs[i]
	defer rec.leave()
	for j := range r.jobs {
		if r.cfg.lose != nil && !j.warm && r.cfg.lose("worker") {
			continue
		}
		if !rec.begin(j.warm, r.stopped.Load()) {
			return
		}
		sent := r.now()
		o := conn.Call(r.start.Add(time.Duration(sent) + r.cfg.Timeout))
		if !rec.end(j.due, sent, r.now(), o, j.warm) {
			return
		}
	}
}

// closedWorker calls back to back until the segment or the count ends.
func (r *run) closedWorker(i int) {
	conn, rec := r.conns[i], r.recs[i]
	warmup := int64(r.cfg.Warmup)
	for !r.stopped.Load() {
		sent := r.now()
		if r.end > 0 && sent >= int64(r.end) {
			r.scheduleEnded()
			return
		}
		warm := sent < warmup
		if !warm && r.cfg.Requests > 0 && r.claimed.Add(1) > r.cfg.Requests {
			r.scheduleEnded()
			return
		}
		if !rec.begin(warm, false) {
			return
		}
		if !warm {
			r.markStart()
		}
		o := conn.Call(r.start.Add(time.Duration(sent) + r.cfg.Timeout))
		if !rec.end(sent, sent, r.now(), o, warm) {
			return
		}
	}
}

// marks are the readings taken at the measured segment's two ends.
type marks struct {
	genCPU      [2]time.Duration
	srvCPU      [2]time.Duration
	srvErr      error
	bytesR      [2]int64
	bytesW      [2]int64
	stoppedAt   time.Duration // when scheduling was stopped early; 0 = it was not
	interrupted bool          // ctx was cancelled
	end         time.Duration // when the run ended
	measuring   bool          // the run got past its warm-up
}

func (r *run) mark(m *marks, k int) {
	m.genCPU[k], _ = selfCPU()
	if r.cfg.ServerCPU != nil && m.srvErr == nil {
		m.srvCPU[k], m.srvErr = r.cfg.ServerCPU()
	}
	if r.loop != nil {
		m.bytesR[k], m.bytesW[k] = r.loop.bytes()
	} else if bc, ok := r.cfg.Driver.(ByteCounter); ok {
		m.bytesR[k], m.bytesW[k] = bc.Bytes()
	}
}

// collect rotates the recorders on interval boundaries, aligned to the end
// of the warm-up, until the workers are done, or until the grace that
// follows the schedule's end or ctx's cancellation has passed.
func (r *run) collect(ctx context.Context, col *collector, res *Result, workersDone <-chan struct{}) marks {
	var m marks
	warmup := r.cfg.Warmup
	m.measuring = warmup == 0
	cut := &intervals{r: r, col: col, res: res, m: &m}
	next, rotate := cut.next, cut.rotate
	tick := time.NewTimer(time.Until(r.start.Add(next())))
	defer tick.Stop()
	var grace graceTimer
	defer grace.stop()
	startGrace := func() { grace.start(r.cfg.Grace) }
	ctxDone, scheduleDone := ctx.Done(), r.scheduleDone
	var lastDueC <-chan time.Time
	if r.lastDue > 0 {
		t := time.NewTimer(time.Until(r.start.Add(r.lastDue)))
		defer t.Stop()
		lastDueC = t.C
	}
	for {
		// The warm-up boundary is handled as soon as it is due, before any
		// other event: a collector scheduled late must not find the run's
		// end first and lose the measured segment's CPU and byte marks.
		for !m.measuring && time.Since(r.start) >= warmup {
			to := next()
			rotate(to, false)
			if to >= warmup {
				m.measuring = true
				tick.Reset(time.Until(r.start.Add(next())))
			}
		}
		select {
		case <-tick.C:
			to := next()
			if to > time.Since(r.start)+time.Millisecond {
				tick.Reset(time.Until(r.start.Add(to))) // a stale fire from before a reset
				continue
			}
			rotate(to, false)
			if !m.measuring && to >= warmup {
				m.measuring = true
			}
			tick.Reset(time.Until(r.start.Add(next())))
			continue
		case <-scheduleDone:
			scheduleDone = nil
			startGrace()
			continue
		case <-lastDueC:
			lastDueC = nil
			startGrace()
			continue
		case <-ctxDone:
			ctxDone = nil
			m.interrupted = true
			r.halt(&m)
			startGrace()
			continue
		case <-grace.C:
			// Calls still out stay out: they are reported in flight, and a
			// Conn's Close makes them return.
			r.halt(&m)
		case <-workersDone:
		}
		break
	}
	if !r.cfg.Closed || r.loop != nil {
		<-r.dispatchDone // prompt once halted: the sleeper and the loop watch r.stop
	}
	m.end = time.Since(r.start)
	rotate(m.end, true)
	r.mark(&m, 1)
	r.startMarks(&m)
	return m
}

// startMarks sets the marks the run's costs are counted from: those taken
// when the first measured call started, or, when none started, the end's
// (so that nothing is counted).
func (r *run) startMarks(m *marks) {
	if r.startTaken.Load() {
		m.genCPU[0], m.srvCPU[0], m.srvErr = r.startMark.genCPU[0], r.startMark.srvCPU[0], errors.Join(r.startMark.srvErr, m.srvErr)
		m.bytesR[0], m.bytesW[0] = r.startMark.bytesR[0], r.startMark.bytesW[0]
	} else {
		m.genCPU[0], m.srvCPU[0], m.bytesR[0], m.bytesW[0] = m.genCPU[1], m.srvCPU[1], m.bytesR[1], m.bytesW[1]
	}
}

// intervals cuts a run into its reporting intervals: one each Interval,
// and one ending exactly at the warm-up's end.
type intervals struct {
	r    *run
	col  *collector
	res  *Result
	m    *marks
	from time.Duration
}

// next is when the current interval ends.
func (c *intervals) next() time.Duration {
	warmup, step := c.r.cfg.Warmup, c.r.cfg.Interval
	if !c.m.measuring && c.from+step > warmup {
		return warmup
	}
	return c.from + step
}

// rotate ends the current interval at to and reports it.
func (c *intervals) rotate(to time.Duration, final bool) {
	iv := c.col.rotate(c.from, to, !c.m.measuring, final)
	if !c.r.cfg.Closed {
		iv.Target = c.r.cfg.Pacer.Rate(to)
	}
	c.res.Intervals = append(c.res.Intervals, iv)
	if c.r.cfg.OnInterval != nil {
		c.r.cfg.OnInterval(iv)
	}
	c.from = to
}

// graceTimer is the grace a run's last calls get: it starts once, at the
// first of the events that end the run.
type graceTimer struct {
	t *time.Timer
	C <-chan time.Time
}

func (g *graceTimer) start(d time.Duration) {
	if g.t == nil {
		g.t = time.NewTimer(d)
		g.C = g.t.C
	}
}

func (g *graceTimer) stop() {
	if g.t != nil {
		g.t.Stop()
	}
}

// halt stops scheduling and calling; calls already out go on.
func (r *run) halt(m *marks) {
	if r.stopped.CompareAndSwap(false, true) {
		// Read after the swap: every job the dispatcher handed out was due
		// by now, since it found stopped false after its due time.
		r.stoppedAt = time.Since(r.start)
		m.stoppedAt = r.stoppedAt
		close(r.stop)
	}
}

// settle runs once the dispatcher has returned and the final rotation has
// closed the recording. It waits until no open-loop worker can take another
// job (each has returned, or is in a call after which it stops; one still
// taking finds r.jobs closed and does not block), reads the jobs they
// counted queued after the rotation, and counts the measured jobs left in
// r.jobs.
func (r *run) settle(col *collector) {
	for i, w := range r.recs {
		for {
			done, queued := w.settled()
			if done {
				col.last[i].queued = queued
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	if r.jobs == nil {
		return // the event loop counted its own queue
	}
	for j := range r.jobs {
		if !j.warm {
			r.leftQueued++
		}
	}
}

// scheduledBy counts the measured requests the pacer had made due by t.
func (r *run) scheduledBy(t time.Duration) uint64 {
	if r.end > 0 && t >= r.end {
		t = r.end - 1
	}
	var n uint64
	if hi := r.cfg.Pacer.Hits(t); r.cfg.Warmup > 0 {
		if lo := r.cfg.Pacer.Hits(r.cfg.Warmup - 1); hi > lo {
			n = hi - lo
		}
	} else {
		n = hi
	}
	if r.cfg.Requests > 0 && n > r.cfg.Requests {
		n = r.cfg.Requests
	}
	return n
}

// finish fills the result from the final rotation and the marks, and
// checks the books: an error wrapping ErrAccounting, also among the
// result's warnings, says where they do not balance.
func (r *run) finish(res *Result, col *collector, m marks) error {
	err := r.account(res, col, m)
	res.Interrupted = m.interrupted
	res.Histograms.Response, res.Histograms.Service, res.Histograms.Lag = col.total.resp, col.total.svc, col.total.lag
	res.IntervalLog = col.log.Bytes()
	res.Response, res.Service, res.Lag = PercentilesOf(col.total.resp), PercentilesOf(col.total.svc), PercentilesOf(col.total.lag)
	if col.dropped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d histogram values were dropped while merging", col.dropped))
	}
	r.rates(res, m)
	r.costs(res, m)
	if t, ok := r.cfg.Driver.(TLSReporter); ok {
		res.TLS = t.TakeTLS()
	}
	if h, ok := r.cfg.Driver.(HTTP2Reporter); ok {
		res.HTTP2 = h.HTTP2()
	}
	if c, ok := r.cfg.Driver.(Counter); ok {
		res.Counters = c.TakeCounters()
	}
	if a := res.Accounting; a.InFlight+a.Queued > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d calls were still in flight and %d queued when the run ended: their latencies are missing from the tail", a.InFlight, a.Queued))
	}
	return err
}

// account fills the result's accounting from the workers' tallies and the
// dispatcher's counts, and checks that the books balance (a mismatch is
// returned and kept as a warning).
func (r *run) account(res *Result, col *collector, m marks) error {
	t, codes := col.tallies()
	a := &res.Accounting
	a.Sent, a.OK, a.Clamped = t.started, t.byClass[OK], t.clamped
	for c := Class(1); c < numClasses; c++ {
		if n := t.byClass[c]; n > 0 {
			if a.ByClass == nil {
				a.ByClass = map[string]uint64{}
			}
			a.ByClass[c.String()] = n
			a.Errors += n
		}
	}
	for k, n := range codes {
		if a.ByCode == nil {
			a.ByCode = map[string]uint64{}
		}
		a.ByCode[fmt.Sprintf("%s %d", k.class, k.code)] += n
	}
	for _, tl := range col.last {
		if tl.inflight {
			a.InFlight++
		}
	}
	b := books{
		closed: r.cfg.Closed, sent: a.Sent, ok: a.OK, errors: a.Errors, inFlight: a.InFlight,
		resp: col.total.resp.TotalCount(), svc: col.total.svc.TotalCount(), lag: col.total.lag.TotalCount(),
	}
	if r.cfg.Closed {
		a.Scheduled = a.Sent // a closed loop schedules a call when it sends it
	} else {
		// What the schedule called for up to its end, or up to the halt.
		upTo := m.end
		if r.stopped.Load() {
			upTo = r.stoppedAt
		}
		b.scheduled, b.created, b.leftDue = r.scheduledBy(upTo), r.created, r.leftDue
		b.dropped, b.leftQueued = t.queued, r.leftQueued
		a.Scheduled = b.scheduled
		a.Queued = b.leftDue + b.dropped + b.leftQueued
	}
	err := b.check()
	if err == nil {
		err = a.Check() // the identity the result states
	}
	if err != nil {
		res.Warnings = append(res.Warnings, err.Error())
	}
	return err
}

// rates sets the measured span, the achieved rate and the rate the
// schedule called for over it.
func (r *run) rates(res *Result, m marks) {
	a := &res.Accounting
	if m.measuring {
		res.Duration = m.end - r.cfg.Warmup
	}
	calls := float64(res.Calls())
	if s := res.Duration.Seconds(); s > 0 {
		res.Achieved = calls / s
	}
	if !r.cfg.Closed {
		// The schedule's span: from the warm-up's end to the segment's
		// end, or to the stop when that came first. Not the run's length,
		// which includes the wait for the last replies: an overloaded
		// server would make the target look like its own rate.
		stop := m.end
		if m.stoppedAt > 0 {
			stop = m.stoppedAt
		}
		if r.end > 0 && stop > r.end {
			stop = r.end
		}
		if seg := stop - r.cfg.Warmup; seg > 0 {
			res.TargetRate = float64(a.Scheduled) / seg.Seconds()
		}
	}
}

// costs sets the generator's and the server's CPU and the bytes moved,
// in all and per call.
func (r *run) costs(res *Result, m marks) {
	calls := float64(res.Calls())
	res.GeneratorCPU = m.genCPU[1] - m.genCPU[0]
	if r.cfg.ServerCPU != nil {
		if m.srvErr != nil {
			res.ServerCPUNote = "not measured: " + m.srvErr.Error()
			res.Warnings = append(res.Warnings, "server CPU not measured: "+m.srvErr.Error())
		} else {
			res.ServerCPU = m.srvCPU[1] - m.srvCPU[0]
		}
	}
	res.BytesRead, res.BytesWritten = m.bytesR[1]-m.bytesR[0], m.bytesW[1]-m.bytesW[0]
	if calls > 0 {
		res.GeneratorCPUCall = float64(res.GeneratorCPU) / calls
		res.ServerCPUCall = float64(res.ServerCPU) / calls
		res.BytesPerCall = float64(res.BytesRead+res.BytesWritten) / calls
	}
}

// books are the counts a run keeps of its measured requests, each taken
// independently where the thing happens. check says where they disagree.
type books struct {
	closed bool // a closed loop: no schedule, no queue

	scheduled uint64 // the pacer: due by the schedule's end or the halt
	created   uint64 // the dispatcher: handed out
	leftDue   uint64 // the dispatcher: due by the halt, never handed out

	dropped    uint64 // the workers: taken from the queue, never sent
	leftQueued uint64 // the collector: left in the queue at the end

	sent, ok, errors, inFlight uint64 // the workers' tallies
	resp, svc, lag             int64  // the histograms' totals
}

func (b books) check() error {
	var errs []error
	if !b.closed {
		if b.created+b.leftDue != b.scheduled {
			errs = append(errs, fmt.Errorf("%w: the schedule called for %d requests; the dispatcher handed out %d and left %d due",
				ErrAccounting, b.scheduled, b.created, b.leftDue))
		}
		if b.sent+b.dropped+b.leftQueued != b.created {
			errs = append(errs, fmt.Errorf("%w: the dispatcher handed out %d requests; the workers sent %d and dropped %d, %d left in the queue",
				ErrAccounting, b.created, b.sent, b.dropped, b.leftQueued))
		}
	}
	if b.ok+b.errors+b.inFlight != b.sent {
		errs = append(errs, fmt.Errorf("%w: the workers sent %d requests; %d ok, %d errors, %d in flight",
			ErrAccounting, b.sent, b.ok, b.errors, b.inFlight))
	}
	if b.resp != int64(b.ok) || b.svc != int64(b.ok) || b.lag != int64(b.ok) {
		errs = append(errs, fmt.Errorf("%w: %d ok calls; the response, service and lag histograms hold %d, %d and %d",
			ErrAccounting, b.ok, b.resp, b.svc, b.lag))
	}
	return errors.Join(errs...)
}

var (
	dispatchersMu sync.Mutex
	dispatchers   int // open-loop runs in progress
	procsBefore   int
)

// reserveDispatcherP raises GOMAXPROCS by one while open-loop runs are in
// progress, and returns the function that lowers it again. The dispatcher
// sleeps in nanosleep on a locked thread, and a goroutine in a syscall keeps
// its P until sysmon takes it back, which can take up to 10 ms: with
// GOMAXPROCS=1 (a generator pinned to one CPU) the workers would wait that
// long behind every sleep. Measured with `mcpbench floor` on a 2-CPU
// machine, generator pinned to one CPU: p50 16 ms at 2000/s without the
// extra P, 0.11 ms with it.
func reserveDispatcherP() (release func()) {
	dispatchersMu.Lock()
	defer dispatchersMu.Unlock()
	if dispatchers == 0 {
		procsBefore = runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(procsBefore + 1)
	}
	dispatchers++
	return func() {
		dispatchersMu.Lock()
		defer dispatchersMu.Unlock()
		if dispatchers--; dispatchers == 0 {
			runtime.GOMAXPROCS(procsBefore)
		}
	}
}
