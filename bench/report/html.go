package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/chart"
	"github.com/mcpbench/mcpbench/bench/results"
)

// HTML is a run's report as one page that works offline: styles, the
// charts (the same SVG files the run writes, as data: images) and a few
// lines of script (sorting the table) inline, and a content security
// policy that lets it load nothing else. It holds the question, the
// table with its intervals and calibration rows, the sentences, the
// charts, and per result its errors, accounting, setup, transport facts
// and counters, then where and how it ran. charts are SVG files by name,
// in the order to show them.
func HTML(s *results.Summary, charts []NamedFile) []byte {
	var b bytes.Buffer
	if err := page.Execute(&b, htmlData(s, charts)); err != nil {
		return []byte("<!doctype html><title>mcpbench report</title><p>report failed: " + template.HTMLEscapeString(err.Error()))
	}
	return b.Bytes()
}

// NamedFile is a file by name.
type NamedFile struct {
	Name string
	Data []byte
}

// LoadCharts draws a load's charts (the response-time spectrum of its
// runs), as SVG, for HTML.
func LoadCharts(s *results.Summary) []NamedFile {
	var series []chart.Series
	for _, r := range s.Runs {
		if r.Histograms.Response != nil && r.Histograms.Response.TotalCount() > 0 {
			series = append(series, chart.Series{Name: r.Name, Points: chart.SpectrumOf(r.Histograms.Response)})
		}
	}
	if len(series) == 0 {
		return nil
	}
	p, err := chart.Spectrum("response time percentiles", series)
	if err != nil {
		return nil
	}
	files := map[string][]byte{}
	if err := render(files, "spectrum", p); err != nil {
		return nil
	}
	return []NamedFile{{"spectrum.svg", files["spectrum.svg"]}}
}

// SVGs picks the SVG charts out of a run's files, in the order given.
func SVGs(files map[string][]byte, order []string) []NamedFile {
	var out []NamedFile
	seen := map[string]bool{}
	for _, n := range order {
		if svg := strings.TrimSuffix(strings.TrimSuffix(n, ".png"), ".svg") + ".svg"; files[svg] != nil && !seen[svg] {
			seen[svg] = true
			out = append(out, NamedFile{svg, files[svg]})
		}
	}
	return out
}

type htmlPage struct {
	Title, Question string
	Scenario        bool
	Head            []string
	Rows            [][]string
	Calibration     map[int]bool // rows with a known answer
	Failed          [][2]string
	Sentences       []string
	Thresholds      []string
	Warnings        []string
	Charts          []htmlChart
	Details         []htmlDetail
	Facts           [][2]string
}

type htmlChart struct {
	Title string
	Src   template.URL
}

type htmlDetail struct {
	Name  string
	Facts [][2]string
}

func htmlData(s *results.Summary, charts []NamedFile) htmlPage {
	p := htmlPage{Title: "mcpbench load", Calibration: map[int]bool{}}
	if rep := s.Scenario; rep != nil {
		p.Scenario, p.Title, p.Question = true, rep.Name, strings.TrimSpace(rep.Description)
		p.Head = []string{"variant", "rate/s", "p50", "p90", "p99", "p99.9", "max", "Δp50 (95% CI)", "Δp99 (95% CI)", "server CPU/call", "bytes/call (req+resp)", "errors"}
		p.Rows = rows(s, " + ")
		for i, r := range p.Rows {
			if strings.Contains(r[7], "known") {
				p.Calibration[i] = true
			}
		}
		for _, n := range slices.Sorted(maps.Keys(rep.Failed)) {
			p.Failed = append(p.Failed, [2]string{n, rep.Failed[n]})
		}
		p.Sentences = Sentences(s)
		p.Thresholds, _ = ThresholdLines(s)
		p.Warnings = rep.Warnings
	} else {
		p.Head = []string{"run", "load", "target/s", "achieved/s", "p50", "p90", "p99", "p99.9", "p99.99", "max", "errors", "generator CPU/call", "bytes/call"}
		for _, r := range s.Runs {
			p.Rows = append(p.Rows, []string{r.Name, r.Model, fmt.Sprintf("%.0f", r.TargetRate), fmt.Sprintf("%.0f", r.Achieved),
				results.FormatNs(r.Response.P50), results.FormatNs(r.Response.P90), results.FormatNs(r.Response.P99), results.FormatNs(r.Response.P999),
				results.FormatNs(r.Response.P9999), results.FormatNs(r.Response.Max), fmt.Sprint(r.Accounting.Errors),
				results.FormatNs(int64(r.GeneratorCPUCall)), fmt.Sprintf("%.0f B", r.BytesPerCall)})
			if len(s.Runs) == 1 {
				p.Title = "mcpbench load: " + r.Target
			}
		}
	}
	p.Warnings = append(p.Warnings, ErrorLines(s)...)
	for _, r := range s.Runs {
		p.Warnings = append(p.Warnings, prefixed(r.Name, r.Warnings)...)
	}
	for _, c := range charts {
		p.Charts = append(p.Charts, htmlChart{Title: strings.TrimSuffix(c.Name, ".svg"),
			Src: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(c.Data))})
	}
	for _, r := range s.Runs {
		p.Details = append(p.Details, htmlDetail{Name: r.Name, Facts: resultFacts(r)})
	}
	h := s.Host
	p.Facts = [][2]string{
		{"command", strings.Join(s.Command, " ")},
		{"mcpbench", fmt.Sprintf("%s, commit %s%s, built %s", s.Tool, short(s.Build.Commit), dirty(s.Build.Dirty), s.Build.Time)},
		{"made", s.Created.Format(time.RFC3339)},
		{"machine", fmt.Sprintf("%s (%s), %d CPUs, Linux %s, %s", h.Hostname, h.CPUModel, h.NumCPU, h.Kernel, h.GoVersion)},
		{"CPU placement", fmt.Sprintf("generator on CPU %s, servers on CPU %s %s", or(h.GeneratorCPUs, "any"), or(h.ServerCPUs, "any"), h.CPUNote)},
	}
	if s.ScenarioSHA256 != "" {
		p.Facts = append(p.Facts, [2]string{"scenario file", fmt.Sprintf("%s (SHA-256 %s)", s.Scenario.File, s.ScenarioSHA256)})
	}
	for _, sh := range s.Shards {
		p.Facts = append(p.Facts, [2]string{"shard " + sh.Shard, fmt.Sprintf("%s on %s: %s", sh.Dir, sh.Host.Hostname, strings.Join(sh.Command, " "))})
	}
	return p
}

// resultFacts are what a result says beside its percentiles.
func resultFacts(r *bench.Result) [][2]string {
	a := r.Accounting
	f := [][2]string{
		{"schedule", fmt.Sprintf("%s (%s loop), %d connections, %s; warm-up %v, measured %v", r.Schedule, r.Model, r.Connections, engineOf(r), r.Warmup, r.Duration.Round(time.Millisecond))},
		{"accounting", fmt.Sprintf("scheduled %d = ok %d + errors %d + in flight %d + queued %d", a.Scheduled, a.OK, a.Errors, a.InFlight, a.Queued)},
		{"latency (response / service / lag)", fmt.Sprintf("p50 %s / %s / %s, p99 %s / %s / %s", results.FormatNs(r.Response.P50), results.FormatNs(r.Service.P50),
			results.FormatNs(r.Lag.P50), results.FormatNs(r.Response.P99), results.FormatNs(r.Service.P99), results.FormatNs(r.Lag.P99))},
	}
	if d := results.ErrorDetail(a); d != "" {
		f = append(f, [2]string{"errors", d})
	}
	setup := []string{"prepare " + results.FormatNs(int64(r.Setup.Prepare)), "open " + results.FormatNs(int64(r.Setup.OpenMax)), "first call " + results.FormatNs(int64(r.Setup.FirstCall))}
	for _, k := range slices.Sorted(maps.Keys(r.Setup.Phases)) {
		setup = append(setup, k+" "+results.FormatNs(int64(r.Setup.Phases[k])))
	}
	f = append(f, [2]string{"setup", strings.Join(setup, ", ")})
	cpu := "generator " + results.FormatNs(int64(r.GeneratorCPUCall)) + " per call"
	if r.ServerCPUCall > 0 {
		cpu += ", server " + results.FormatNs(int64(r.ServerCPUCall)) + " per call"
	} else if r.ServerCPUNote != "" {
		cpu += "; server " + r.ServerCPUNote
	}
	f = append(f, [2]string{"CPU", cpu})
	if t := r.TLS; t != nil {
		f = append(f, [2]string{"TLS", fmt.Sprintf("%s, %s, %s; %d handshakes (%d resumed), p50 %s", t.Version, t.CipherSuite, t.Group, t.Handshakes, t.Resumed, results.FormatNs(t.Handshake.P50))})
	}
	if h := r.HTTP2; h != nil {
		f = append(f, [2]string{"HTTP/2", fmt.Sprintf("%d streams over %d connections (%d dialed), server limit %d", h.Streams, h.Connections, h.Dials, h.ServerMaxStreams)})
	}
	if len(r.Counters) > 0 {
		var cs []string
		for _, k := range slices.Sorted(maps.Keys(r.Counters)) {
			cs = append(cs, fmt.Sprintf("%s %d", k, r.Counters[k]))
		}
		f = append(f, [2]string{"counters", strings.Join(cs, ", ")})
	}
	if r.Shards > 0 {
		f = append(f, [2]string{"shards", fmt.Sprintf("%d merged", r.Shards)})
	}
	return f
}

func prefixed(name string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = name + ": " + l
	}
	return out
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return or(c, "unknown")
}

func dirty(d *bool) string {
	if d != nil && *d {
		return " (dirty)"
	}
	return ""
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — mcpbench</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 0 auto; padding: 24px 32px 48px; max-width: 1400px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #dde2ea; padding-bottom: 4px; }
.question { font-size: 17px; color: #3d4656; max-width: 70em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e6e9ef; text-align: right; white-space: nowrap; }
th { background: #f3f5f9; cursor: pointer; user-select: none; position: sticky; top: 0; }
td:first-child, th:first-child { text-align: left; }
tr.calibration td { background: #eef7ee; } tr.failed td { background: #fbeeee; color: #8a1f1f; white-space: normal; }
tr:hover td { background: #f7f9fc; }
.scroll { overflow-x: auto; }
ul.sentences li { margin: 3px 0; } .warn { color: #8a5a00; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(620px, 1fr)); gap: 20px; }
figure { margin: 0; } figure img { width: 100%; border: 1px solid #e6e9ef; } figcaption { color: #5a6475; font-size: 13px; }
details { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0 12px 16px; } dt { color: #5a6475; } dd { margin: 0; word-break: break-word; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Question}}<p class="question">{{.Question}}</p>{{end}}
<p>Latency is response time from each call's intended start (no coordinated omission).{{if .Scenario}} Δ is against the baseline, from segments run side by side: the Hodges–Lehmann estimate with its 95% interval; a highlighted row has a known answer and says whether the run found it.{{end}}</p>
<h2>Results</h2>
<div class="scroll"><table id="results">
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range $i, $r := .Rows}}<tr{{if index $.Calibration $i}} class="calibration"{{end}}>{{range $r}}<td>{{.}}</td>{{end}}</tr>
{{end}}{{range .Failed}}<tr class="failed"><td>{{index . 0}}</td><td colspan="11" style="text-align:left">failed: {{index . 1}}</td></tr>
{{end}}</tbody>
</table></div>
{{if .Sentences}}<ul class="sentences">{{range .Sentences}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Thresholds}}<h2>Thresholds</h2><ul>{{range .Thresholds}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Warnings}}<h2>Warnings and errors</h2><ul class="warn">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Charts}}<h2>Charts</h2>
<div class="charts">{{range .Charts}}<figure><img alt="{{.Title}}" src="{{.Src}}"><figcaption>{{.Title}}</figcaption></figure>{{end}}</div>{{end}}
<h2>Each result</h2>
{{range .Details}}<details><summary>{{.Name}}</summary><dl>{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl></details>
{{end}}
<h2>Where and how it ran</h2>
<dl>{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
<script>
// Click a column's head to sort the table by it (again to reverse).
(function () {
  var table = document.getElementById("results");
  if (!table) return;
  var value = function (s) {
    var m = s.replace(/,/g, "").match(/^([+\u2212-]?)([0-9.]+)\s*(ns|µs|ms|s|B)?/);
    if (!m) return null;
    var v = parseFloat(m[2]) * ({ns: 1e-3, "µs": 1, ms: 1e3, s: 1e6}[m[3]] || 1);
    return m[1] === "" || m[1] === "+" ? v : -v;
  };
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.dataset.dir === "asc" ? -1 : 1;
      th.dataset.dir = dir === 1 ? "asc" : "desc";
      rows.sort(function (a, b) {
        var x = a.cells[col] ? a.cells[col].textContent : "", y = b.cells[col] ? b.cells[col].textContent : "";
        var vx = value(x), vy = value(y);
        if (vx !== null && vy !== null) return dir * (vx - vy);
        return dir * x.localeCompare(y);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>
</body>
</html>
`))

// Comparison is two results set side by side (mcpbench compare): the
// runs both hold, the comparisons both drew, and notes.
type Comparison struct {
	A, B      string // where each came from
	RunHead   []string
	Runs      [][]string
	DeltaHead []string
	Deltas    [][]string // the last two cells: "yes" or "NO"
	Notes     []string
}

// CompareHTML is a comparison as one self-contained page, as HTML's: a
// comparison whose B lies outside A's interval, or apart by more than
// their combined half-widths, is highlighted.
func CompareHTML(c Comparison) []byte {
	var b bytes.Buffer
	if err := comparePage.Execute(&b, c); err != nil {
		return []byte("<!doctype html><title>mcpbench compare</title><p>comparison failed: " + template.HTMLEscapeString(err.Error()))
	}
	return b.Bytes()
}

var comparePage = template.Must(template.New("compare").Funcs(template.FuncMap{
	"apart": func(r []string) bool { return slices.Contains(r, "NO") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>mcpbench compare</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; color: #1d2330; margin: 0 auto; padding: 24px 32px; max-width: 1400px; }
h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 28px; border-bottom: 1px solid #dde2ea; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e6e9ef; text-align: right; white-space: nowrap; }
th { background: #f3f5f9; } td:first-child, th:first-child { text-align: left; }
tr.apart td { background: #fff1df; font-weight: 600; }
</style>
</head>
<body>
<h1>A: {{.A}} · B: {{.B}}</h1>
<p>Each side's figures come from its own merged histograms. A comparison is highlighted where B's Δp50 lies outside A's 95% interval or the two are further apart than their half-widths combined.</p>
<h2>Runs</h2>
<table><thead><tr>{{range .RunHead}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Runs}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{if .Deltas}}<h2>Comparisons</h2>
<table><thead><tr>{{range .DeltaHead}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Deltas}}<tr{{if apart .}} class="apart"{{end}}>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>{{end}}
{{range .Notes}}<p>{{.}}</p>{{end}}
</body>
</html>
`))

// engineOf says what made a run's calls: the engine, its batching window,
// and how replies were timed.
func engineOf(r *bench.Result) string {
	e := or(r.Engine, "workers")
	if r.Batch != "" && r.Batch != "0s" {
		e += ", batch " + r.Batch
	}
	if r.ReplyTimes == "kernel" {
		e += ", replies timed by the kernel's receive timestamps"
	}
	return e
}
