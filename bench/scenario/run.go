package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/chart"
	"github.com/mcpbench/mcpbench/bench/report"
)

// Runner runs one scenario: it starts every variant's servers, runs the
// interleaved rounds, stops the servers, and builds the summary with its
// comparisons, report and charts.
type Runner struct {
	Scenario *Scenario
	Env      Env
	// Log receives one line per finished segment and notes; nil discards.
	Log io.Writer
	// OnInterval, when set, sees each second of each segment (a live
	// progress line).
	OnInterval func(variant string, round int, iv bench.Interval)
	// Command and Host describe the run in the summary.
	Command []string
	Host    bench.Host
}

// Run carries out the scenario. A cancelled ctx ends it early; what was
// measured is still summarised. The error is for a scenario that could not
// run at all; variants that fail are reported in the summary.
func (r *Runner) Run(ctx context.Context) (*bench.Summary, error) {
	s := r.Scenario
	logf := func(format string, a ...any) {
		if r.Log != nil {
			fmt.Fprintf(r.Log, format+"\n", a...)
		}
	}
	variants := append([]Variant(nil), s.Variants...)
	if s.Floor {
		variants = append(variants, Variant{Name: "floor-tcp", Stack: "tcp-floor", Auth: "none"}, Variant{Name: "floor-http", Stack: "http-floor", Auth: "none"})
	}
	in := newInfra(r.Env)
	defer func() {
		for _, err := range in.stopAll() {
			logf("warning: %v", err)
		}
	}()
	rep := &bench.ScenarioReport{Name: s.Name, Description: s.Description, File: s.File, Baseline: s.Baseline,
		Rounds: s.Rounds, Segment: s.Segment, Failed: map[string]string{}}
	// Fresh tokens are fetched for each segment (its Prepare) : enough for one.
	perSegmentCalls := int(s.Load.Rate*(s.Segment+s.Warmup).Seconds()*1.1) + 1000
	insts := map[string]*instance{}
	var order []string
	for _, v := range variants {
		if ctx.Err() != nil {
			break
		}
		inst, err := in.launch(ctx, v, s.Workload, s.Load, perSegmentCalls)
		if err != nil {
			rep.Failed[v.Name] = err.Error()
			logf("%s: cannot start: %v", v.Name, err)
			continue
		}
		insts[v.Name] = inst
		order = append(order, v.Name)
	}
	defer func() {
		for _, inst := range insts {
			inst.driver.Close()
		}
	}()

	segments := map[string][]*bench.Result{}
	var all []*bench.Result
	for round := 0; round < s.Rounds && ctx.Err() == nil; round++ {
		n := len(order)
		for k := 0; k < n && ctx.Err() == nil; k++ {
			name := order[(round+k)%n] // rotate, so no variant always goes first
			inst := insts[name]
			if _, failed := rep.Failed[name]; failed {
				continue
			}
			res, err := r.segment(ctx, inst, round)
			if res != nil {
				segments[name] = append(segments[name], res)
				all = append(all, res)
				logf("round %d/%d %-28s %8.0f/s  p50 %-8s p99 %-8s errors %d", round+1, s.Rounds, name, res.Achieved,
					bench.FormatNs(res.Response.P50), bench.FormatNs(res.Response.P99), res.Accounting.Errors)
			}
			if err != nil && !errors.Is(err, bench.ErrAccounting) {
				rep.Failed[name] = err.Error()
				logf("%s: %v", name, err)
			}
			if inst.server != nil {
				if dead, how := inst.server.Exited(); dead {
					rep.Failed[name] = "server exited during the run: " + how
					logf("%s: server exited (%s); its other rounds are skipped", name, how)
				}
			}
		}
	}

	// Merge, compare, judge.
	var runs []*bench.Result
	var vs []report.Variant
	for _, v := range variants {
		segs := segments[v.Name]
		if len(segs) == 0 {
			if _, ok := rep.Failed[v.Name]; !ok && insts[v.Name] != nil {
				rep.Failed[v.Name] = "no round ran"
			}
			continue
		}
		m, err := bench.MergeResults(v.Name, segs)
		if err != nil {
			return nil, err
		}
		runs = append(runs, m)
		vs = append(vs, report.Variant{Name: v.Name, Labels: labels(v), Floor: strings.HasSuffix(v.Stack, "-floor"), Merged: m, Rounds: segs})
	}
	rep.Variants = report.Compare(s.Baseline, vs)
	rep.Thresholds = report.Thresholds(thresholds(s.Thresholds), runs)
	if s.Tokenomics != nil {
		rep.Tokenomics = tokenomics(s, vs)
	}
	if s.Saturation != nil && ctx.Err() == nil {
		for _, name := range order {
			if _, failed := rep.Failed[name]; failed {
				continue
			}
			sr := r.saturate(ctx, insts[name])
			rep.Saturation = append(rep.Saturation, sr)
			logf("saturation %-28s sustainable %.0f/s (%s)", name, sr.Sustainable, sr.StoppedBy)
		}
	}
	if len(rep.Failed) == 0 {
		rep.Failed = nil
	}
	sum := bench.NewSummary(r.Command, r.Host, runs...)
	sum.ScenarioSHA256 = s.SHA256
	sum.Segments = all
	sum.Scenario = rep
	spectra := map[string][]chart.Point{}
	for _, m := range runs {
		spectra[m.Name] = chart.SpectrumOf(m.Histograms.Response)
	}
	files, err := report.Charts(sum, spectra)
	if err != nil {
		logf("warning: charts: %v", err)
	}
	var names []string
	for f := range files {
		names = append(names, f)
	}
	sortCharts(names)
	files["report.md"] = report.Markdown(sum, names)
	sum.Files = files
	return sum, nil
}

// sortCharts puts the spectrum first, then the overheads, then the rest.
func sortCharts(names []string) {
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

// segment runs one round of one variant.
func (r *Runner) segment(ctx context.Context, inst *instance, round int) (*bench.Result, error) {
	s := r.Scenario
	cfg := bench.Config{
		Name: fmt.Sprintf("%s#%d", inst.v.Name, round+1), Target: inst.v.Name, Driver: inst.driver,
		Closed: s.Load.Closed, Connections: s.Load.Connections, Duration: s.Segment, Warmup: s.Warmup, Timeout: s.Load.Timeout,
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
	if round == 0 && inst.v.Fault != "" {
		stop := r.inject(inst, s.Warmup+inst.v.FaultAt)
		defer stop()
	}
	return bench.Run(ctx, cfg)
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
	target := inst.server
	if v.Fault == "issuer-down" || v.Fault == "rotate-keys" {
		target = inst.issuer
	}
	if target == nil {
		logf("%s: no process to inject %s into", v.Name, v.Fault)
		return func() {}
	}
	var resume *time.Timer
	start := time.AfterFunc(d, func() {
		var err error
		switch v.Fault {
		case "kill":
			err = target.Signal(syscall.SIGKILL)
		case "rotate-keys":
			err = target.Signal(syscall.SIGHUP)
		case "stall", "issuer-down":
			err = target.Signal(syscall.SIGSTOP)
			resume = time.AfterFunc(v.FaultFor, func() { target.Signal(syscall.SIGCONT) })
		}
		logf("%s: fault %s injected (%v)", v.Name, v.Fault, err)
	})
	return func() {
		start.Stop()
		if resume != nil && resume.Stop() {
			target.Signal(syscall.SIGCONT)
		}
	}
}

// pacer builds the load's schedule for one segment (the warm-up at the
// starting rate).
func pacer(l LoadSpec, segment, warmup time.Duration) (bench.Pacer, error) {
	switch {
	case l.RampTo > 0:
		return bench.NewPiecewise([]bench.Stage{{From: l.Rate, To: l.Rate, Duration: warmup}, {From: l.Rate, To: l.RampTo, Duration: segment}})
	case l.Step > 0:
		n := int((segment + l.StepEvery - 1) / l.StepEvery)
		p, err := bench.Steps(l.Rate, l.Step, l.StepEvery, n)
		if err != nil {
			return nil, err
		}
		return bench.NewPiecewise(append([]bench.Stage{{From: l.Rate, To: l.Rate, Duration: warmup}}, p.Stages()...))
	}
	return bench.Constant(l.Rate)
}

// labels describe a variant in the summary.
func labels(v Variant) map[string]string {
	l := map[string]string{"stack": v.Stack, "impl": v.Impl, "transport": v.Transport, "reply": v.Reply, "protocol": v.Protocol, "auth": v.Auth}
	if v.Auth == "jwt" || v.Auth == "introspect" {
		l["alg"], l["tokens"] = v.Alg, v.Tokens
		l["cache"] = fmt.Sprint(v.Cache)
		l["fresh_tokens"] = fmt.Sprint(v.FreshTokens)
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

func thresholds(ts []Threshold) []report.Threshold {
	out := make([]report.Threshold, len(ts))
	for i, t := range ts {
		out[i] = report.Threshold{Variant: t.Variant, P50: int64(t.P50), P90: int64(t.P90), P99: int64(t.P99), P999: int64(t.P999),
			Max: int64(t.Max), Errors: t.Errors, ErrorsSet: t.ErrorsSet, MinRate: t.MinRate}
	}
	return out
}

// tokenomics spreads each protected variant's measured token request over
// the calls one token serves at the achieved rate.
func tokenomics(s *Scenario, vs []report.Variant) []bench.TokenomicsRow {
	var rows []bench.TokenomicsRow
	for _, v := range vs {
		cost := v.Rounds[0].Setup.Phases["oauth_token"]
		if cost == 0 || v.Merged.Achieved == 0 {
			continue
		}
		for _, life := range s.Tokenomics.Lifetimes {
			calls := v.Merged.Achieved * life.Seconds()
			rows = append(rows, bench.TokenomicsRow{Variant: v.Name, Lifetime: life, Rate: v.Merged.Achieved, TokenCost: cost, PerCall: float64(cost) / calls})
		}
	}
	return rows
}

// saturate steps the rate up until p99 passes the SLO, the achieved rate
// falls under 98% of the target, or the maximum is reached.
func (r *Runner) saturate(ctx context.Context, inst *instance) bench.SaturationRun {
	sat := r.Scenario.Saturation
	out := bench.SaturationRun{Variant: inst.v.Name, StoppedBy: "max rate"}
	for rate := sat.Start; rate <= sat.Max && ctx.Err() == nil; rate += sat.Step {
		p, _ := bench.Constant(rate)
		res, err := bench.Run(ctx, bench.Config{Name: fmt.Sprintf("%s@%.0f", inst.v.Name, rate), Driver: inst.driver, Pacer: p,
			Connections: max(r.Scenario.Load.Connections, 64), Duration: sat.Every, Warmup: 500 * time.Millisecond, Timeout: r.Scenario.Load.Timeout})
		if err != nil || res == nil {
			out.StoppedBy = fmt.Sprintf("error at %.0f/s: %v", rate, err)
			break
		}
		pt := bench.SaturationPoint{Target: rate, Achieved: res.Achieved, P50: res.Response.P50, P99: res.Response.P99, Errors: res.Accounting.Errors}
		out.Steps = append(out.Steps, pt)
		if res.Response.P99 > int64(sat.SLOP99) {
			out.StoppedBy = fmt.Sprintf("p99 %s over the SLO %s at %.0f/s", bench.FormatNs(res.Response.P99), bench.FormatNs(int64(sat.SLOP99)), rate)
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
