package results

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/internal/secret"
)

// SummarySchema names the version of summary.json's layout. A change that
// removes or renames a field bumps it.
const SummarySchema = "mcpbench.summary/v2"

// Summary is what summary.json holds: one or more runs, and where they ran.
type Summary struct {
	Schema  string      `json:"schema"`
	Tool    string      `json:"tool"`    // "mcpbench" and its version
	Build   bench.Build `json:"build"`   // the commit it was built from
	Command []string    `json:"command"` // the command line that made it
	// ScenarioSHA256 is the hex SHA-256 of the scenario file as read, for
	// a scenario run.
	ScenarioSHA256 string    `json:"scenario_sha256,omitempty"`
	Created        time.Time `json:"created"`
	Host           Host      `json:"host"`
	// Units of the files beside summary.json: .hgrm in microseconds, .hlog
	// in nanoseconds (tags response, service, lag), timeseries.csv in µs.
	Units map[string]string `json:"units"`
	Runs  []*bench.Result   `json:"runs"`
	// Segments are the rounds of a scenario's variants, of which Runs
	// are the merges; their interval logs are written as NAME.hlog.
	Segments []*bench.Result `json:"segments,omitempty"`
	// Scenario is what a scenario run adds: the comparisons.
	Scenario *ScenarioReport `json:"scenario,omitempty"`
	// Shards are the results a merge was made of: where each shard ran,
	// by what command, from what build.
	Shards []ShardSource `json:"shards,omitempty"`
	// Files are written beside summary.json as they are (report.md, charts).
	Files map[string][]byte `json:"-"`
}

// ShardSource is one shard's results directory, as mcpbench merge read it.
type ShardSource struct {
	Dir     string      `json:"dir"`
	Shard   string      `json:"shard"`
	Host    Host        `json:"host"`
	Command []string    `json:"command"`
	Build   bench.Build `json:"build"`
	Created time.Time   `json:"created"`
}

// Host describes the machine and the CPU placement of a run.
type Host struct {
	// Hostname is os.Hostname's answer; empty when it had none.
	Hostname      string `json:"hostname,omitempty"`
	OS, Arch      string
	GoVersion     string `json:"go_version"`
	CPUModel      string `json:"cpu_model,omitempty"`
	NumCPU        int    `json:"num_cpu"`
	Kernel        string `json:"kernel,omitempty"`
	GeneratorCPUs string `json:"generator_cpus,omitempty"`
	ServerCPUs    string `json:"server_cpus,omitempty"`
	CPUNote       string `json:"cpu_note,omitempty"`
	GOMAXPROCS    int    `json:"gomaxprocs"`
}

// ThisHost describes the machine this process runs on.
func ThisHost() Host {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(), NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if name, err := os.Hostname(); err == nil {
		h.Hostname = name
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return h
}

// NewSummary starts a summary of runs made by the given command line.
func NewSummary(command []string, host Host, runs ...*bench.Result) *Summary {
	b := bench.ThisBuild()
	return &Summary{
		Schema: SummarySchema, Tool: "mcpbench " + b.Version, Build: b, Command: secret.Redact(command), Created: time.Now().UTC(), Host: host,
		Units: map[string]string{"summary.json": "ns", ".hgrm": "us", ".hlog": "ns", "timeseries.csv": "us"},
		Runs:  runs,
	}
}

// WriteResults writes s into dir, which must not exist yet, atomically: the
// files are written into a sibling directory that is renamed to dir once
// they are all complete, so a reader never sees half a result.
//
//	summary.json     the summary
//	NAME.hgrm        each run's response-time percentile distribution, µs
//	NAME.hlog        each run's HdrHistogram interval log (response, service, lag), ns;
//	                 a scenario variant's holds all its segments, one after another
//	timeseries.csv   every run's intervals, one row each
func WriteResults(dir string, s *Summary) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("results directory %s already exists", dir)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return err
	}
	if err := writeFiles(tmp, s); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	return nil
}

func writeFiles(dir string, s *Summary) error {
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{"summary.json": append(js, '\n')}
	seen := map[string]bool{}
	var ts bytes.Buffer
	cw := csv.NewWriter(&ts)
	_ = cw.Write(timeseriesHeader)
	for _, r := range s.Runs {
		name := FileName(r.Name)
		if seen[name] {
			return fmt.Errorf("two runs would write %s.hgrm: give them different names", name)
		}
		seen[name] = true
		if h := r.Histograms.Response; h != nil {
			var b bytes.Buffer
			if _, err := h.PercentilesPrint(&b, 5, 1000); err != nil {
				return err
			}
			files[name+".hgrm"] = b.Bytes()
		}
		if r.IntervalLog != nil {
			files[name+".hlog"] = r.IntervalLog
		}
		if len(s.Segments) == 0 {
			for _, iv := range r.Intervals {
				_ = cw.Write(timeseriesRow(r.Name, iv))
			}
		}
	}
	// A segment's interval log is part of its run's (MergeResults joins
	// them); its intervals are rows of timeseries.csv under its own name.
	for _, r := range s.Segments {
		for _, iv := range r.Intervals {
			_ = cw.Write(timeseriesRow(r.Name, iv))
		}
	}
	cw.Flush()
	files["timeseries.csv"] = ts.Bytes()
	for name, b := range s.Files {
		if _, clash := files[name]; clash || name != filepath.Base(name) || name == "" {
			return fmt.Errorf("extra file %q clashes or is not a plain name", name)
		}
		files[name] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var timeseriesHeader = []string{
	"run", "start_s", "end_s", "warmup", "target_rate", "rate", "started", "ok", "errors", "in_flight",
	"response_p50_us", "response_p90_us", "response_p99_us", "response_max_us",
	"service_p50_us", "service_p99_us", "lag_p99_us", "lag_max_us",
}

func timeseriesRow(run string, iv bench.Interval) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	us := func(ns int64) string { return strconv.FormatFloat(float64(ns)/1e3, 'f', 3, 64) }
	errs := iv.Completed() - iv.ByClass[bench.OK]
	return []string{
		run, f(iv.Start.Seconds()), f(iv.End.Seconds()), strconv.FormatBool(iv.Warmup), f(iv.Target),
		strconv.FormatFloat(iv.Rate(), 'f', 1, 64), strconv.FormatUint(iv.Started, 10),
		strconv.FormatUint(iv.ByClass[bench.OK], 10), strconv.FormatUint(errs, 10), strconv.Itoa(iv.InFlight),
		us(iv.Response.P50), us(iv.Response.P90), us(iv.Response.P99), us(iv.Response.Max),
		us(iv.Service.P50), us(iv.Service.P99), us(iv.Lag.P99), us(iv.Lag.Max),
	}
}

// FileName turns a run's name into a safe file name.
func FileName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if s := strings.Trim(string(b), "."); s != "" {
		return s
	}
	return "run"
}

// WriteTable prints runs as a table: rates, response-time percentiles,
// errors, and CPU and bytes per call where measured.
func WriteTable(w io.Writer, runs []*bench.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tload\ttarget/s\tachieved/s\tp50\tp90\tp99\tp99.9\tp99.99\tmax\terrors\tsrv cpu/call\tgen cpu/call\tbytes/call\t")
	for _, r := range runs {
		target := "-"
		if r.Model == "open" {
			target = fmt.Sprintf("%.0f", r.TargetRate)
		}
		p := r.Response
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Name, r.Model, target, r.Achieved,
			FormatNs(p.P50), FormatNs(p.P90), FormatNs(p.P99), FormatNs(p.P999), FormatNs(p.P9999), FormatNs(p.Max),
			errorsCell(r.Accounting), cpuCell(r.ServerCPUCall), cpuCell(r.GeneratorCPUCall), bytesCell(r.BytesPerCall))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range runs {
		if d := ErrorDetail(r.Accounting); d != "" {
			if _, err := fmt.Fprintf(w, "%s errors: %s\n", r.Name, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrorDetail says what an errors column counts, biggest first, each
// class with its codes: "rate_limited 10829 (HTTP 429: 10829); timeout 3;
// in flight at the end 2".
func ErrorDetail(a bench.Accounting) string {
	classes := slices.Collect(maps.Keys(a.ByClass))
	slices.SortFunc(classes, func(x, y string) int {
		return cmp.Or(cmp.Compare(a.ByClass[y], a.ByClass[x]), cmp.Compare(x, y))
	})
	var parts []string
	for _, c := range classes {
		var codes []string
		for k, n := range a.ByCode {
			if cls, code, _ := strings.Cut(k, " "); cls == c {
				label := "code"
				if c == bench.ClassHTTP.String() || c == bench.ClassRateLimited.String() {
					label = "HTTP"
				}
				codes = append(codes, fmt.Sprintf("%s %s: %d", label, code, n))
			}
		}
		slices.Sort(codes)
		p := fmt.Sprintf("%s %d", c, a.ByClass[c])
		if len(codes) > 0 {
			p += " (" + strings.Join(codes, ", ") + ")"
		}
		parts = append(parts, p)
	}
	var left []string
	if a.InFlight > 0 {
		left = append(left, fmt.Sprintf("in flight at the end %d", a.InFlight))
	}
	if a.Queued > 0 {
		left = append(left, fmt.Sprintf("queued at the end %d", a.Queued))
	}
	if len(left) > 0 {
		parts = append(parts, strings.Join(left, ", "))
	}
	return strings.Join(parts, "; ")
}

func errorsCell(a bench.Accounting) string {
	bad := a.Errors + a.InFlight + a.Queued
	if a.Scheduled == 0 || bad == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.2f%%)", bad, 100*float64(bad)/float64(a.Scheduled))
}

func cpuCell(ns float64) string {
	if ns == 0 {
		return "-"
	}
	return FormatNs(int64(ns))
}

func bytesCell(b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f B", b)
}

// FormatNs prints nanoseconds with a unit and three significant digits:
// 850ns, 41.2µs, 1.05ms, 2.31s.
func FormatNs(ns int64) string {
	v := float64(ns)
	switch {
	case ns == 0:
		return "0"
	case v < 1e3:
		return fmt.Sprintf("%dns", ns)
	case v < 1e6:
		return sig3(v/1e3) + "µs"
	case v < 1e9:
		return sig3(v/1e6) + "ms"
	default:
		return sig3(v/1e9) + "s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
