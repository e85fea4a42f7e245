package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReportInChromium opens the report.html of a short run in headless
// Chromium: it loads with no console message (a blocked request, a
// script error and a CSP violation would each be one), asks for nothing
// beyond the file, holds the table's rows and the charts in its DOM, and
// a screenshot of it is the size asked for and not blank. It needs
// Chromium: MCPBENCH_BROWSER names it (make browser sets it, and the test
// then fails without it); without either it looks for chromium on PATH and
// skips when there is none.
func TestReportInChromium(t *testing.T) {
	browser := os.Getenv("MCPBENCH_BROWSER")
	if browser == "" {
		var err error
		if browser, err = exec.LookPath("chromium"); err != nil {
			t.Skip("no chromium (make tools-chromium installs it)")
		}
	} else if _, err := exec.LookPath(browser); err != nil {
		t.Fatalf("MCPBENCH_BROWSER=%s: %v", browser, err)
	}
	t.Setenv("MCPBENCH_AS_MAIN", "1")
	dir := t.TempDir()
	sc := filepath.Join(dir, "s.yaml")
	os.WriteFile(sc, []byte(`
name: browser
description: Does the report open in a real browser?
rounds: 2
segment: 200ms
warmup: 50ms
load: {rate: 300, connections: 4}
baseline: fast
variants:
  - {name: fast, stack: mcp, impl: fast}
  - {name: calibration-spin-20us, stack: mcp, impl: fast, spin: 20us}
  - {name: rest, stack: rest}
`), 0o644)
	out := filepath.Join(dir, "out")
	mustRun(t, sc, out)
	page := filepath.Join(out, "report.html")
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing the page could load from elsewhere: no URL in a src or an
	// href, and a policy that allows none.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)`).Find(html); m != nil {
		t.Errorf("report.html refers to %s", m)
	}
	if !bytes.Contains(html, []byte(`default-src 'none'`)) {
		t.Error("report.html has no content security policy")
	}
	chrome := func(args ...string) (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, browser, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--enable-logging=stderr", "--log-level=0", "--user-data-dir=" + filepath.Join(dir, "profile")}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, e.String())
		}
		return o.String(), e.String()
	}
	console := func(log string) []string {
		var out []string
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "net::ERR") {
				out = append(out, l)
			}
		}
		return out
	}
	// The instrument first: a page with a script error and a request the
	// policy blocks must show in the log.
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, []byte(`<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'"><img src="https://example.com/x.png"><script>nope()</script>`), 0o644)
	if _, log := chrome("--dump-dom", "file://"+bad); len(console(log)) < 2 {
		t.Fatalf("the browser's log shows %d of the 2 console messages of a broken page: the check below could not see one\n%s", len(console(log)), log)
	}
	dom, log := chrome("--dump-dom", "file://"+page)
	for _, l := range console(log) {
		t.Errorf("browser: %s", l)
	}
	for _, want := range []string{"<td>fast</td>", "<td>calibration-spin-20us</td>", "<td>rest</td>", "known 20.0µs", `class="calibration"`,
		"data:image/svg+xml;base64,", "Where and how it ran", "Each result"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}
	if n := strings.Count(dom, "<img "); n < 3 || strings.Count(dom, "<figcaption>spectrum</figcaption>") != 1 {
		t.Errorf("%d charts in the DOM, want at least 3 (spectrum, overheads), the spectrum once", n)
	}
	shot := filepath.Join(dir, "shot.png")
	chrome("--window-size=1280,1600", "--screenshot="+shot, "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1600 {
		t.Errorf("screenshot %v, want 1280×1600", b)
	}
	// Not blank: many colours, and dark text on the light page.
	colours, dark := map[uint32]bool{}, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|bl>>8] = true
			if r+g+bl < 3*0x4000 {
				dark++
			}
		}
	}
	if len(colours) < 50 || dark < 1000 {
		t.Errorf("the screenshot looks blank: %d colours, %d dark samples", len(colours), dark)
	}
	if os.Getenv("MCPBENCH_KEEP_SHOT") != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(os.Getenv("MCPBENCH_KEEP_SHOT"), data, 0o644)
	}
}
