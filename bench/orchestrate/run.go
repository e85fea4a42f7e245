// Package orchestrate runs a scenario: it starts every variant's servers
// (and the authorization servers, the REST upstream and HAProxy they
// need) as child processes, lays out and runs the segments (plan.go),
// injects faults, searches saturation, amortises token costs, and
// summarises the comparisons into a summary, a report and charts. What a
// stack is, and how it is started and called, is the stack registry's
// (package scenario).
package orchestrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/chart"
	"github.com/mcpbench/mcpbench/bench/report"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/bench/scenario"
)

// Runner runs one scenario: it starts every variant's servers, runs the
// interleaved rounds, stops the servers, and builds the summary with its
// comparisons, report and charts.
type Runner struct {
	Scenario *scenario.Scenario
	Env      Env
	// Log receives one line per finished segment and notes; nil discards.
	Log io.Writer
	// OnInterval, when set, sees each second of each segment (a live
	// progress line).
	OnInterval func(variant string, round int, iv bench.Interval)
	// Command and Host describe the run in the summary.
	Command []string
	Host    results.Host
	// Shard, with N > 1, makes this runner shard I of N generators that
	// run one scenario together against servers run elsewhere (every
	// variant external): each segment sends its share of the schedule.
	// StartAt is when the first segment starts; segment i starts i·Slot
	// later, on every shard alike.
	Shard   bench.ShardSpec
	StartAt time.Time
	Slot    time.Duration

	engine string // what makes every segment's calls (oneEngine)
}

// Run carries out the scenario. A cancelled ctx ends it early; what was
// measured is still summarised. The error is for a scenario that could not
// run at all; variants that fail are reported in the summary.
func (r *Runner) Run(ctx context.Context) (*results.Summary, error) {
	s := r.Scenario
	variants := append([]scenario.Variant(nil), s.Variants...)
	if s.Floor {
		variants = append(variants, scenario.Variant{Name: "floor-tcp", Stack: "tcp-floor", Auth: "none"}, scenario.Variant{Name: "floor-http", Stack: "http-floor", Auth: "none"})
	}
	in := newInfra(r.Env)
	defer func() {
		for _, err := range in.stopAll() {
			r.logf("warning: %v", err)
		}
	}()
	rep := &results.ScenarioReport{Name: s.Name, Description: s.Description, File: s.File, Baseline: s.Baseline,
		Rounds: s.Rounds, Segment: s.Segment, Warmup: s.Warmup, Order: s.Order, Failed: map[string]string{}}
	insts, names := r.launchAll(ctx, in, variants, rep)
	r.engine = oneEngine(insts)
	defer func() {
		for _, inst := range insts {
			inst.driver.Close()
		}
	}()
	isFloor := map[string]bool{}
	for _, v := range variants {
		isFloor[v.Name] = scenario.StackKinds[v.Stack].Floor
	}
	baseline := s.Baseline
	if insts[baseline] == nil {
		baseline = "" // it could not start: nothing to compare with
	}
	steps := plan(s.Order, baseline, names, func(n string) bool { return !isFloor[n] }, s.Rounds)
	r.logf("%s", describePlan(s, steps))
	segs := r.runPlan(ctx, steps, insts, rep)

	sum := r.summarise(variants, steps, segs, rep)
	if s.Saturation != nil && ctx.Err() == nil {
		for _, name := range names {
			if _, failed := rep.Failed[name]; failed {
				continue
			}
			sr := r.saturate(ctx, insts[name])
			rep.Saturation = append(rep.Saturation, sr)
			r.logf("saturation %-28s sustainable %.0f/s (%s)", name, sr.Sustainable, sr.StoppedBy)
		}
	}
	if len(rep.Failed) == 0 {
		rep.Failed = nil
	}
	r.files(sum)
	return sum, nil
}

func (r *Runner) logf(format string, a ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", a...)
	}
}

// launchAll starts every variant's servers and driver; those that cannot
// start are marked failed. It returns the started ones by name, and their
// names in the scenario's order.
func (r *Runner) launchAll(ctx context.Context, in *infra, variants []scenario.Variant, rep *results.ScenarioReport) (map[string]*instance, []string) {
	s := r.Scenario
	calls := segmentCalls(s)
	insts := map[string]*instance{}
	var names []string
	for _, v := range variants {
		if ctx.Err() != nil {
			break
		}
		inst, err := in.launch(ctx, v, s.Workload, s.Load, calls)
		if err != nil {
			rep.Failed[v.Name] = err.Error()
			r.logf("%s: cannot start: %v", v.Name, err)
			continue
		}
		insts[v.Name] = inst
		names = append(names, v.Name)
	}
	return insts, names
}

// oneEngine is the engine for every segment of a scenario: the event loop
// when every variant's driver can stream, the workers otherwise. Two
// engines in one comparison would put the difference between generators
// into the deltas.
func oneEngine(insts map[string]*instance) string {
	for _, inst := range insts {
		if sd, ok := inst.driver.(bench.StreamDriver); !ok || !sd.Streamable() {
			return bench.EngineWorkers
		}
	}
	return bench.EngineLoop
}

// segmentCalls is how many calls one segment (warm-up included) makes at
// most: the size of a fresh-token pool, which each segment tops up. A
// closed loop's rate is not known ahead: 50,000 covers a fast stack's
// short segments, and a pool that runs dry says so (the variant fails).
func segmentCalls(s *scenario.Scenario) int {
	l := s.Load
	if l.Closed {
		return 50_000
	}
	peak := max(l.Rate, l.RampTo)
	if l.Step > 0 {
		peak = l.Rate + l.Step*float64((s.Segment+l.StepEvery-1)/l.StepEvery)
	}
	return min(int(peak*(s.Segment+s.Warmup).Seconds()*1.2)+100, 500_000)
}

// runPlan runs the plan's segments in order and returns their results,
// one per step (nil where a step did not run).
func (r *Runner) runPlan(ctx context.Context, steps []step, insts map[string]*instance, rep *results.ScenarioReport) []*bench.Result {
	s := r.Scenario
	segs := make([]*bench.Result, len(steps))
	count := map[string]int{}
	for i, st := range steps {
		if ctx.Err() != nil {
			break
		}
		inst := insts[st.variant]
		if _, failed := rep.Failed[st.variant]; failed {
			continue
		}
		count[st.variant]++
		res, err := r.segment(ctx, inst, i, st.round, count[st.variant])
		if res != nil && res.TokenPoolMisses > 0 {
			rep.Failed[st.variant] = fmt.Sprintf("%d calls of segment %s found the fresh-token pool empty and fetched a token inside the measured call: its latencies hold token requests (a bug in the pool's sizing; please report it)", res.TokenPoolMisses, res.Name)
			r.logf("%s: %s", st.variant, rep.Failed[st.variant])
		}
		if res != nil {
			segs[i] = res
			r.logf("round %d/%d %-28s %8.0f/s  p50 %-8s p99 %-8s errors %d", st.round+1, s.Rounds, st.variant, res.Achieved,
				results.FormatNs(res.Response.P50), results.FormatNs(res.Response.P99), res.Accounting.Errors)
		}
		if err != nil && !errors.Is(err, bench.ErrAccounting) {
			rep.Failed[st.variant] = err.Error()
			r.logf("%s: %v", st.variant, err)
		}
		if inst.server != nil {
			if dead, how := inst.server.Exited(); dead {
				rep.Failed[st.variant] = "server exited during the run: " + how
				r.logf("%s: server exited (%s); its other rounds are skipped", st.variant, how)
			}
		}
	}
	return segs
}

// summarise merges each variant's segments, draws every comparison from
// the segments the plan paired, and builds the summary. A variant whose
// segments do not merge (an accounting check failed) is marked failed
// with the reason; the others are kept.
func (r *Runner) summarise(variants []scenario.Variant, steps []step, done []*bench.Result, rep *results.ScenarioReport) *results.Summary {
	return summariseScenario(r.Scenario, r.Command, r.Host, r.logf, variants, steps, done, rep)
}

// summariseScenario is summarise for a scenario run by runners other than
// this process's: sharded generators' segments, merged.
func summariseScenario(s *scenario.Scenario, command []string, host results.Host, logf func(string, ...any),
	variants []scenario.Variant, steps []step, done []*bench.Result, rep *results.ScenarioReport) *results.Summary {
	segs := map[string][]*bench.Result{}
	paired := map[string][]*bench.Result{}
	var all []*bench.Result
	for i, res := range done {
		if res == nil {
			continue
		}
		name := steps[i].variant
		segs[name] = append(segs[name], res)
		all = append(all, res)
		if name == s.Baseline {
			continue
		}
		var near []*bench.Result
		for _, j := range partners(steps, i, s.Order, s.Baseline) {
			if done[j] != nil {
				near = append(near, done[j])
			}
		}
		paired[name] = append(paired[name], pairOf(near))
	}
	var runs []*bench.Result
	var vs []report.Variant
	for _, v := range variants {
		if len(segs[v.Name]) == 0 {
			if _, ok := rep.Failed[v.Name]; !ok {
				rep.Failed[v.Name] = "no round ran"
			}
			continue
		}
		m, err := bench.MergeResults(v.Name, segs[v.Name])
		if err != nil {
			rep.Failed[v.Name] = err.Error()
			logf("%s: %v", v.Name, err)
		}
		runs = append(runs, m)
		vs = append(vs, report.Variant{Name: v.Name, Labels: labels(v), Floor: scenario.StackKinds[v.Stack].Floor,
			Merged: m, Rounds: segs[v.Name], Paired: paired[v.Name], Known: known(v, s)})
	}
	rep.Variants = report.Compare(s.Baseline, vs)
	rep.Thresholds = report.Thresholds(thresholds(s.Thresholds), runs)
	if s.Tokenomics != nil {
		rep.Tokenomics = tokenomics(s, vs)
	}
	rep.Warnings = append(rep.Warnings, report.Warnings(vs, rep)...)
	sum := results.NewSummary(command, host, runs...)
	sum.ScenarioSHA256 = s.SHA256
	sum.Segments = all
	sum.Scenario = rep
	return sum
}

// pairOf is the baseline's figures next to one segment: its partners
// merged (nil when none ran, or they do not merge).
func pairOf(partners []*bench.Result) *bench.Result {
	if len(partners) == 0 {
		return nil
	}
	m, err := bench.MergeResults("baseline", partners)
	if err != nil {
		return nil
	}
	return m
}

// known is the difference a variant must show against the baseline by
// construction: a calibration row's spin. 0 means none is known.
func known(v scenario.Variant, s *scenario.Scenario) time.Duration {
	if v.Spin > 0 && v.Name != s.Baseline {
		return v.Spin
	}
	return 0
}

// files draws the charts and writes report.md into the summary's files.
func (r *Runner) files(sum *results.Summary) { writeFiles(sum, r.logf) }

// writeFiles puts the report and the charts into sum's files.
func writeFiles(sum *results.Summary, logf func(string, ...any)) {
	spectra := map[string][]chart.Point{}
	for _, m := range sum.Runs {
		spectra[m.Name] = chart.SpectrumOf(m.Histograms.Response)
	}
	files, err := report.Charts(sum, spectra)
	if err != nil {
		logf("warning: charts: %v", err)
		files = map[string][]byte{}
	}
	var names []string
	for f := range files {
		names = append(names, f)
	}
	SortCharts(names)
	files["report.md"] = report.Markdown(sum, names)
	files["report.html"] = report.HTML(sum, report.SVGs(files, names))
	sum.Files = files
}

// SortCharts puts the spectrum first, then the overheads, then the rest.
func SortCharts(names []string) {
	rank := func(n string) string {
		for i, p := range []string{"spectrum", "overhead-p50", "overhead-p99", "p99-over-time", "saturation"} {
			if strings.HasPrefix(n, p) {
				return fmt.Sprint(i) + n
			}
		}
		return "9" + n
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && rank(names[j]) < rank(names[j-1]); j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
}

// segment runs the k-th segment (from 1) of a variant, in a round.
func (r *Runner) segment(ctx context.Context, inst *instance, step, round, k int) (*bench.Result, error) {
	s := r.Scenario
	cfg := bench.Config{
		Name: fmt.Sprintf("%s#%d", inst.v.Name, k), Target: inst.v.Name, Driver: inst.driver,
		Closed: s.Load.Closed, Connections: s.Load.Connections, Duration: s.Segment, Warmup: s.Warmup, Timeout: s.Load.Timeout,
		Engine: r.engine, Shard: r.Shard,
	}
	if !r.StartAt.IsZero() {
		cfg.StartAt = r.StartAt.Add(time.Duration(step) * r.Slot)
	}
	if !s.Load.Closed {
		p, err := pacer(s.Load, s.Segment, s.Warmup)
		if err != nil {
			return nil, err
		}
		cfg.Pacer = p
	}
	if len(inst.path) > 0 {
		cfg.ServerCPU = inst.cpu
	}
	if r.OnInterval != nil {
		cfg.OnInterval = func(iv bench.Interval) { r.OnInterval(inst.v.Name, round+1, iv) }
	}
	if k == 1 && inst.v.Fault != "" {
		stop := r.inject(inst, s.Warmup+inst.v.FaultAt)
		defer stop()
	}
	var misses int64
	if inst.oauth != nil {
		_, misses = inst.oauth.Stats()
	}
	before := readStats(inst.stats)
	res, err := bench.Run(ctx, cfg)
	if res != nil {
		res.Step, res.Round = step, round
		if after := readStats(inst.stats); before != nil && after != nil {
			// The servers' token checks over the segment, warm-up and
			// setup included; only what happened (a count of 0 is left out).
			for k, v := range after {
				if d := v - before[k]; d > 0 {
					if res.Counters == nil {
						res.Counters = map[string]int64{}
					}
					res.Counters["server_"+k] += d
				}
			}
		}
	}
	if res != nil && cfg.ServerCPU == nil {
		res.ServerCPUNote = inst.cpuNote()
	}
	if res != nil && inst.oauth != nil {
		_, after := inst.oauth.Stats()
		res.TokenPoolMisses = after - misses
	}
	return res, err
}

// inject schedules the variant's fault after d and returns a function
// that cancels what has not happened yet (and ends a stall).
func (r *Runner) inject(inst *instance, d time.Duration) (stop func()) {
	v := inst.v
	logf := func(format string, a ...any) {
		if r.Log != nil {
			fmt.Fprintf(r.Log, format+"\n", a...)
		}
	}
	Target := inst.server
	if v.Fault == "issuer-down" || v.Fault == "rotate-keys" {
		Target = inst.issuer
	}
	if Target == nil {
		logf("%s: no process to inject %s into", v.Name, v.Fault)
		return func() {}
	}
	var resume *time.Timer
	start := time.AfterFunc(d, func() {
		var err error
		switch v.Fault {
		case "kill":
			err = Target.Signal(syscall.SIGKILL)
		case "rotate-keys":
			err = Target.Signal(syscall.SIGHUP)
		case "stall", "issuer-down":
			err = Target.Signal(syscall.SIGSTOP)
			resume = time.AfterFunc(v.FaultFor, func() { Target.Signal(syscall.SIGCONT) })
		}
		logf("%s: fault %s injected (%v)", v.Name, v.Fault, err)
	})
	return func() {
		start.Stop()
		if resume != nil && resume.Stop() {
			Target.Signal(syscall.SIGCONT)
		}
	}
}

// pacer builds the load's schedule for one segment (the warm-up at the
// starting rate).
func pacer(l scenario.LoadSpec, segment, warmup time.Duration) (bench.Pacer, error) {
	return bench.Schedule{Rate: l.Rate, RampTo: l.RampTo, Step: l.Step, StepEvery: l.StepEvery, Warmup: warmup, Span: segment}.Pacer()
}

// labels describe a variant in the summary.
func labels(v scenario.Variant) map[string]string {
	l := map[string]string{"stack": v.Stack, "impl": v.Impl, "transport": v.Transport, "reply": v.Reply, "protocol": v.Protocol, "auth": v.Auth,
		"dpop": v.DPoP, "tls": v.TLS, "tls_group": v.TLSGroup}
	if v.HTTP2 {
		l["http"] = "2"
	}
	if v.Replicas > 0 {
		l["replicas"] = strconv.Itoa(v.Replicas)
		l["balance"] = cmp.Or(v.Balance, "roundrobin")
	}
	if v.UpstreamReplicas > 0 {
		l["upstream_replicas"] = strconv.Itoa(v.UpstreamReplicas)
	}
	if v.Auth == "jwt" || v.Auth == "introspect" {
		l["alg"], l["tokens"] = v.Alg, v.Tokens
		l["cache"] = fmt.Sprint(v.Cache)
		l["fresh_tokens"] = fmt.Sprint(v.FreshTokens)
		l["client_auth"] = v.ClientAuth
	}
	if v.Stateful {
		l["stateful"] = "true"
	}
	for k, x := range l {
		if x == "" {
			delete(l, k)
		}
	}
	return l
}

func thresholds(ts []scenario.Threshold) []report.Threshold {
	out := make([]report.Threshold, len(ts))
	for i, t := range ts {
		out[i] = report.Threshold{Variant: t.Variant, P50: int64(t.P50), P90: int64(t.P90), P99: int64(t.P99), P999: int64(t.P999),
			Max: int64(t.Max), Errors: t.Errors, ErrorsSet: t.ErrorsSet, MinRate: t.MinRate}
	}
	return out
}

// tokenomics spreads each protected variant's token request over the
// calls one token serves: at the achieved rate over the token's lifetime
// for a shared token; one call for fresh tokens, each of which serves a
// single call and so costs it the whole request. The request's cost is
// the mean of every segment's (each segment's Prepare fetches one).
func tokenomics(s *scenario.Scenario, vs []report.Variant) []results.TokenomicsRow {
	var rows []results.TokenomicsRow
	for _, v := range vs {
		var sum time.Duration
		n := 0
		for _, seg := range v.Rounds {
			if c := seg.Setup.Phases["oauth_token"]; c > 0 {
				sum += c
				n++
			}
		}
		if n == 0 || v.Merged.Achieved == 0 {
			continue
		}
		cost := sum / time.Duration(n)
		fresh := v.Labels["fresh_tokens"] == "true"
		for _, life := range s.Tokenomics.Lifetimes {
			calls := v.Merged.Achieved * life.Seconds()
			if fresh {
				calls = 1
			}
			rows = append(rows, results.TokenomicsRow{Variant: v.Name, Lifetime: life, Rate: v.Merged.Achieved, Fresh: fresh,
				TokenCost: cost, Samples: n, CallsPerToken: calls, PerCall: float64(cost) / calls})
		}
	}
	return rows
}

// saturate steps the rate up until calls are left in flight or queued at
// a step's end, p99 passes the SLO, the achieved rate falls under 98% of
// the target, an error comes back, or the maximum is reached.
func (r *Runner) saturate(ctx context.Context, inst *instance) results.SaturationRun {
	sat := r.Scenario.Saturation
	out := results.SaturationRun{Variant: inst.v.Name, StoppedBy: "max rate"}
	for rate := sat.Start; rate <= sat.Max && ctx.Err() == nil; rate += sat.Step {
		p, _ := bench.Constant(rate)
		res, err := bench.Run(ctx, bench.Config{Name: fmt.Sprintf("%s@%.0f", inst.v.Name, rate), Driver: inst.driver, Pacer: p,
			Connections: max(r.Scenario.Load.Connections, 64), Duration: sat.Every, Warmup: 500 * time.Millisecond, Timeout: r.Scenario.Load.Timeout,
			Engine: r.engine})
		if err != nil || res == nil {
			out.StoppedBy = fmt.Sprintf("error at %.0f/s: %v", rate, err)
			break
		}
		a := res.Accounting
		pt := results.SaturationPoint{Target: rate, Achieved: res.Achieved, P50: res.Response.P50, P99: res.Response.P99, Errors: a.Errors, Accounting: a}
		out.Steps = append(out.Steps, pt)
		if left := a.InFlight + a.Queued; left > 0 {
			out.StoppedBy = fmt.Sprintf("%d calls still in flight or queued at the end of %.0f/s: not keeping up", left, rate)
			break
		}
		if res.Response.P99 > int64(sat.SLOP99) {
			out.StoppedBy = fmt.Sprintf("p99 %s over the SLO %s at %.0f/s", results.FormatNs(res.Response.P99), results.FormatNs(int64(sat.SLOP99)), rate)
			break
		}
		if res.Achieved < 0.98*rate {
			out.StoppedBy = fmt.Sprintf("achieved %.0f/s, under 98%% of %.0f/s", res.Achieved, rate)
			break
		}
		if res.Accounting.Errors > 0 {
			out.StoppedBy = fmt.Sprintf("%d errors at %.0f/s", res.Accounting.Errors, rate)
			break
		}
		out.Sustainable = rate
	}
	return out
}
