package scenario

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/internal/tlsca"

	"go.yaml.in/yaml/v3"
)

// ErrScenario marks a scenario file that cannot be used as written.
var ErrScenario = errors.New("scenario")

// Load reads and checks one scenario file.
func Load(file string) (*Scenario, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScenario, err)
	}
	s, err := Parse(file, b)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	s.SHA256 = hex.EncodeToString(sum[:])
	return s, nil
}

// Parse reads a scenario from b; file names it in errors. Every problem
// found is reported, each with its line and a hint.
func Parse(file string, b []byte) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrScenario, file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := &parser{file: file}
	s := &Scenario{File: file, Rounds: 3, Segment: 5 * time.Second, Warmup: time.Second, Order: OrderAdjacent,
		Load: LoadSpec{Connections: 16, Timeout: 10 * time.Second}, Workload: Workload{Tool: "echo"}}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: %s: the file is empty; see scenarios/README.md", ErrScenario, file)
	}
	p.scenario(doc.Content[0], s)
	if len(p.errs) == 0 {
		p.check(s)
	}
	if len(p.errs) > 0 {
		seen := map[string]bool{}
		var errs []string
		for _, e := range p.errs { // a matrix base is read once per combination
			if !seen[e] {
				seen[e] = true
				errs = append(errs, e)
			}
		}
		return nil, fmt.Errorf("%w: %s", ErrScenario, strings.Join(errs, "\n"))
	}
	return s, nil
}

type parser struct {
	file string
	errs []string
}

func (p *parser) fail(n *yaml.Node, format string, a ...any) {
	p.errs = append(p.errs, fmt.Sprintf("%s:%d:%d: %s", p.file, n.Line, n.Column, fmt.Sprintf(format, a...)))
}

// fields walks a mapping, calling the setter of each known key; unknown
// and repeated keys are errors with a suggestion.
func (p *parser) fields(n *yaml.Node, where string, set map[string]func(*yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s must be a mapping of keys to values, not %s", where, kind(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := set[k.Value]
		switch {
		case !ok:
			p.fail(k, "unknown key %q in %s%s", k.Value, where, suggest(k.Value, set))
		case seen[k.Value]:
			p.fail(k, "%q is given twice in %s", k.Value, where)
		default:
			seen[k.Value] = true
			f(v)
		}
	}
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "empty"
	}
	return fmt.Sprintf("%q", n.Value)
}

// suggest names the closest known key, and lists them all.
func suggest(got string, set map[string]func(*yaml.Node)) string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best, bestD := "", 3
	for _, k := range keys {
		if d := distance(got, k); d < bestD {
			best, bestD = k, d
		}
	}
	hint := "; the keys are " + strings.Join(keys, ", ")
	if best != "" {
		return fmt.Sprintf("; did you mean %q?%s", best, hint)
	}
	return hint
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (p *parser) scalar(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.fail(n, "%s needs a value, not %s", key, kind(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) str(dst *string, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := p.scalar(n, key); ok {
			*dst = v
		}
	}
}

func (p *parser) oneOf(dst *string, key string, allowed ...string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := p.scalar(n, key)
		if !ok {
			return
		}
		for _, a := range allowed {
			if v == a {
				*dst = v
				return
			}
		}
		p.fail(n, "%s is one of %s, not %q", key, strings.Join(allowed, ", "), v)
	}
}

func (p *parser) boolean(dst *bool, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := p.scalar(n, key)
		if !ok {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil || n.Tag != "!!bool" {
			p.fail(n, "%s is true or false, not %q", key, v)
			return
		}
		*dst = b
	}
}

func (p *parser) positiveInt(dst *int, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := p.scalar(n, key)
		if !ok {
			return
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 1 {
			p.fail(n, "%s must be a whole number of at least 1, not %q", key, v)
			return
		}
		*dst = i
	}
}

// rate reads requests per second: 2000, 2.5k, 1e4.
func (p *parser) rate(dst *float64, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := p.scalar(n, key)
		if !ok {
			return
		}
		mult := 1.0
		if s, ok := strings.CutSuffix(strings.ToLower(v), "k"); ok {
			v, mult = s, 1000
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || f*mult > 1e7 {
			p.fail(n, "%s is requests per second, a number above 0 and at most 10 million (2000, 2.5k), not %q", key, n.Value)
			return
		}
		*dst = f * mult
	}
}

func (p *parser) duration(dst *time.Duration, key string, allowZero bool) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := p.scalar(n, key)
		if !ok {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d == 0 && !allowZero) {
			unit := ""
			if _, nerr := strconv.ParseFloat(v, 64); nerr == nil {
				unit = " (a duration needs a unit: 5s, 500ms, 2m)"
			}
			p.fail(n, "%s must be a positive duration such as 5s or 250ms, not %q%s", key, v, unit)
			return
		}
		*dst = d
	}
}

// fraction reads 0.1% or 0.001.
func (p *parser) fraction(dst *float64, set *bool, key string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := p.scalar(n, key)
		if !ok {
			return
		}
		scale := 1.0
		if s, ok := strings.CutSuffix(v, "%"); ok {
			v, scale = s, 0.01
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f*scale > 1 {
			p.fail(n, "%s is a share of calls, 0.1%% or 0.001, not %q", key, n.Value)
			return
		}
		*dst, *set = f*scale, true
	}
}

func (p *parser) scenario(n *yaml.Node, s *Scenario) {
	p.fields(n, "the scenario", map[string]func(*yaml.Node){
		"name":        p.str(&s.Name, "name"),
		"description": p.str(&s.Description, "description"),
		"rounds":      p.positiveInt(&s.Rounds, "rounds"),
		"segment":     p.duration(&s.Segment, "segment", false),
		"warmup":      p.duration(&s.Warmup, "warmup", true),
		"order":       p.oneOf(&s.Order, "order", Orders...),
		"floor":       p.boolean(&s.Floor, "floor"),
		"baseline":    p.str(&s.Baseline, "baseline"),
		"load":        func(n *yaml.Node) { p.load(n, &s.Load) },
		"workload":    func(n *yaml.Node) { p.workload(n, &s.Workload) },
		"cpus": func(n *yaml.Node) {
			p.fields(n, "cpus", map[string]func(*yaml.Node){
				"generator": p.str(&s.CPUs.Generator, "cpus.generator"),
				"servers":   p.str(&s.CPUs.Servers, "cpus.servers"),
			})
		},
		"variants":   func(n *yaml.Node) { p.variants(n, s) },
		"matrix":     func(n *yaml.Node) { p.matrices(n, s) },
		"thresholds": func(n *yaml.Node) { p.thresholds(n, s) },
		"saturation": func(n *yaml.Node) {
			s.Saturation = &Saturation{Start: 1000, Step: 1000, Max: 200_000, Every: 3 * time.Second, SLOP99: 10 * time.Millisecond}
			sat := s.Saturation
			p.fields(n, "saturation", map[string]func(*yaml.Node){
				"start":   p.rate(&sat.Start, "saturation.start"),
				"step":    p.rate(&sat.Step, "saturation.step"),
				"max":     p.rate(&sat.Max, "saturation.max"),
				"every":   p.duration(&sat.Every, "saturation.every", false),
				"slo_p99": p.duration(&sat.SLOP99, "saturation.slo_p99", false),
			})
		},
		"tokenomics": func(n *yaml.Node) {
			s.Tokenomics = &Tokenomics{}
			p.fields(n, "tokenomics", map[string]func(*yaml.Node){
				"lifetimes": func(n *yaml.Node) {
					if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
						p.fail(n, "tokenomics.lifetimes is a list of durations, e.g. [1m, 15m, 1h]")
						return
					}
					for _, e := range n.Content {
						var d time.Duration
						p.duration(&d, "a token lifetime", false)(e)
						s.Tokenomics.Lifetimes = append(s.Tokenomics.Lifetimes, d)
					}
				},
			})
		},
	})
}

func (p *parser) load(n *yaml.Node, l *LoadSpec) {
	p.fields(n, "load", map[string]func(*yaml.Node){
		"rate":        p.rate(&l.Rate, "load.rate"),
		"closed":      p.boolean(&l.Closed, "load.closed"),
		"connections": p.positiveInt(&l.Connections, "load.connections"),
		"ramp_to":     p.rate(&l.RampTo, "load.ramp_to"),
		"step":        p.rate(&l.Step, "load.step"),
		"step_every":  p.duration(&l.StepEvery, "load.step_every", false),
		"timeout":     p.duration(&l.Timeout, "load.timeout", false),
	})
}

func (p *parser) workload(n *yaml.Node, w *Workload) {
	p.fields(n, "workload", map[string]func(*yaml.Node){
		"tool": p.oneOf(&w.Tool, "workload.tool", "echo", "compute", "payload", "sleep"),
		"arguments": func(n *yaml.Node) {
			if n.Kind != yaml.MappingNode {
				p.fail(n, "workload.arguments is a mapping, e.g. {message: hello}")
				return
			}
			var v any
			if err := n.Decode(&v); err != nil {
				p.fail(n, "workload.arguments: %v", err)
				return
			}
			b, err := json.Marshal(v)
			if err != nil {
				p.fail(n, "workload.arguments cannot be JSON: %v", err)
				return
			}
			w.Arguments = b
		},
	})
}

// variantFields are the setters of one variant's keys.
func (p *parser) variantFields(v *Variant) map[string]func(*yaml.Node) {
	return map[string]func(*yaml.Node){
		"name":              p.str(&v.Name, "name"),
		"stack":             p.oneOf(&v.Stack, "stack", Stacks...),
		"impl":              p.str(&v.Impl, "impl"),
		"transport":         p.oneOf(&v.Transport, "transport", "http", "sse", "stdio"),
		"stateful":          p.boolean(&v.Stateful, "stateful"),
		"reply":             p.oneOf(&v.Reply, "reply", "json", "sse"),
		"protocol":          p.oneOf(&v.Protocol, "protocol", "auto", "2026-07-28", "2025-11-25"),
		"auth":              p.oneOf(&v.Auth, "auth", "none", "jwt", "introspect", "apikey"),
		"alg":               p.oneOf(&v.Alg, "alg", "HS256", "RS256", "ES256", "EdDSA"),
		"tokens":            p.oneOf(&v.Tokens, "tokens", "jwt", "opaque"),
		"cache":             p.boolean(&v.Cache, "cache"),
		"fresh_tokens":      p.boolean(&v.FreshTokens, "fresh_tokens"),
		"client_auth":       p.oneOf(&v.ClientAuth, "client_auth", "secret", "private_key_jwt"),
		"dpop":              p.oneOf(&v.DPoP, "dpop", "required", "allowed"),
		"tls":               p.oneOf(&v.TLS, "tls", "keep-alive", "resumed", "full"),
		"http2":             p.boolean(&v.HTTP2, "http2"),
		"tls_group":         p.oneOf(&v.TLSGroup, "tls_group", tlsca.GroupNames()...),
		"replicas":          p.positiveInt(&v.Replicas, "replicas"),
		"balance":           p.oneOf(&v.Balance, "balance", "roundrobin", "session"),
		"upstream_replicas": p.positiveInt(&v.UpstreamReplicas, "upstream_replicas"),
		"url":               p.str(&v.URL, "url"),
		"rate_limit":        p.rate(&v.RateLimit, "rate_limit"),
		"spin":              p.duration(&v.Spin, "spin", false),
		"fault":             p.oneOf(&v.Fault, "fault", "kill", "stall", "issuer-down", "rotate-keys"),
		"fault_at":          p.duration(&v.FaultAt, "fault_at", true),
		"fault_for":         p.duration(&v.FaultFor, "fault_for", false),
		"command": func(n *yaml.Node) {
			if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
				p.fail(n, "command is a list: the program and its arguments, e.g. [npx, -y, some-mcp-server]")
				return
			}
			for _, e := range n.Content {
				if s, ok := p.scalar(e, "a command argument"); ok {
					v.Command = append(v.Command, s)
				}
			}
		},
	}
}

func (p *parser) variants(n *yaml.Node, s *Scenario) {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "variants is a list of variants, each a mapping with at least name and stack")
		return
	}
	for _, e := range n.Content {
		v := Variant{Line: e.Line}
		p.fields(e, "a variant", p.variantFields(&v))
		s.Variants = append(s.Variants, v)
	}
}

// MaxVariants is the most variants a scenario may have, matrices expanded:
// a thousand variants of three 5-second rounds would run for four hours.
const MaxVariants = 1000

// matrices expands each matrix: a base variant, axes of values, and a name
// pattern with {axis} placeholders.
// axis is one matrix axis: a variant key and its values.
type axis struct {
	key  *yaml.Node
	vals []*yaml.Node
}

// axes reads a matrix's axes; each must appear in the name pattern.
func (p *parser) axes(n *yaml.Node, pattern string) []axis {
	var axes []axis
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vs := n.Content[i], n.Content[i+1]
		if vs.Kind != yaml.SequenceNode || len(vs.Content) == 0 {
			p.fail(vs, "matrix axis %q needs a list of values", k.Value)
			continue
		}
		if k.Value == "name" {
			p.fail(k, "name is made from the matrix's name pattern, not an axis")
			continue
		}
		axes = append(axes, axis{k, vs.Content})
		if !strings.Contains(pattern, "{"+k.Value+"}") {
			p.fail(k, "axis %q is not in the name pattern %q: the variants would share names; add {%s}", k.Value, pattern, k.Value)
		}
	}
	return axes
}

func (p *parser) matrices(n *yaml.Node, s *Scenario) {
	list := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		list = n.Content
	}
	for _, m := range list {
		var pattern string
		var baseNode, axesNode *yaml.Node
		p.fields(m, "matrix", map[string]func(*yaml.Node){
			"name": p.str(&pattern, "matrix.name"),
			"base": func(n *yaml.Node) { baseNode = n },
			"axes": func(n *yaml.Node) { axesNode = n },
		})
		if axesNode == nil || pattern == "" {
			p.fail(m, "a matrix needs name (a pattern such as \"mcp-{impl}-{auth}\") and axes (key: [values])")
			continue
		}
		if axesNode.Kind != yaml.MappingNode {
			p.fail(axesNode, "matrix.axes maps variant keys to lists of values, e.g. {impl: [fast, sdk]}")
			continue
		}
		axes := p.axes(axesNode, pattern)
		n, sizes := 1, make([]string, len(axes))
		for i, a := range axes {
			n, sizes[i] = min(n*len(a.vals), MaxVariants+1), strconv.Itoa(len(a.vals))
		}
		if len(s.Variants)+n > MaxVariants {
			p.fail(m, "this matrix makes %s variants, past the %d a scenario may have: split it into several scenario files", strings.Join(sizes, " × "), MaxVariants)
			continue
		}
		// Every combination, first axis slowest.
		combos := [][]*yaml.Node{{}}
		for _, a := range axes {
			var next [][]*yaml.Node
			for _, c := range combos {
				for _, v := range a.vals {
					next = append(next, append(append([]*yaml.Node(nil), c...), v))
				}
			}
			combos = next
		}
		for _, c := range combos {
			v := Variant{Line: m.Line}
			set := p.variantFields(&v)
			if baseNode != nil {
				p.fields(baseNode, "matrix.base", set)
			}
			name := pattern
			for i, a := range axes {
				f, ok := set[a.key.Value]
				if !ok {
					p.fail(a.key, "unknown variant key %q as a matrix axis%s", a.key.Value, suggest(a.key.Value, set))
					continue
				}
				f(c[i])
				name = strings.ReplaceAll(name, "{"+a.key.Value+"}", c[i].Value)
			}
			v.Name = name
			s.Variants = append(s.Variants, v)
		}
	}
}

func (p *parser) thresholds(n *yaml.Node, s *Scenario) {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "thresholds is a list, e.g. - {variant: \"*\", p99: 2ms, errors: 0.1%%}")
		return
	}
	for _, e := range n.Content {
		t := Threshold{Variant: "*", Line: e.Line}
		p.fields(e, "a threshold", map[string]func(*yaml.Node){
			"variant":  p.str(&t.Variant, "threshold variant"),
			"p50":      p.duration(&t.P50, "p50", false),
			"p90":      p.duration(&t.P90, "p90", false),
			"p99":      p.duration(&t.P99, "p99", false),
			"p99.9":    p.duration(&t.P999, "p99.9", false),
			"max":      p.duration(&t.Max, "max", false),
			"errors":   p.fraction(&t.Errors, &t.ErrorsSet, "errors"),
			"min_rate": p.rate(&t.MinRate, "min_rate"),
		})
		if _, err := path.Match(t.Variant, ""); err != nil {
			p.fail(e, "threshold variant %q is not a valid pattern: %v", t.Variant, err)
		}
		s.Thresholds = append(s.Thresholds, t)
	}
}

// check looks at the scenario as a whole: names, combinations, bounds.
func (p *parser) check(s *Scenario) {
	top := func(format string, a ...any) {
		p.errs = append(p.errs, fmt.Sprintf("%s: %s", p.file, fmt.Sprintf(format, a...)))
	}
	at := func(line int, format string, a ...any) {
		p.errs = append(p.errs, fmt.Sprintf("%s:%d: %s", p.file, line, fmt.Sprintf(format, a...)))
	}
	if s.Name == "" {
		top("the scenario needs a name (it names the results directory)")
	}
	l := s.Load
	switch {
	case l.Closed && (l.Rate > 0 || l.RampTo > 0 || l.Step > 0):
		top("load.closed runs as fast as answered: drop rate, ramp_to and step")
	case !l.Closed && l.Rate == 0 && s.Saturation == nil:
		top("load needs a rate (requests per second) or closed: true")
	case l.RampTo > 0 && l.Step > 0:
		top("load.ramp_to and load.step are two schedules: choose one")
	case l.Step > 0 && l.StepEvery == 0:
		top("load.step needs load.step_every")
	}
	if len(s.Variants) == 0 {
		top("no variants: list some under variants, or expand a matrix")
	} else if len(s.Variants) > MaxVariants {
		top("%d variants, past the %d a scenario may have: split it into several scenario files", len(s.Variants), MaxVariants)
	}
	names := map[string]int{}
	for _, v := range s.Variants {
		if v.Name == "" {
			at(v.Line, "a variant needs a name")
		} else if first, dup := names[v.Name]; dup {
			at(v.Line, "variant %q is defined twice (first at line %d)", v.Name, first)
		} else {
			names[v.Name] = v.Line
		}
		if err := checkVariant(&v); err != "" {
			at(v.Line, "variant %q: %s", v.Name, err)
		}
	}
	if s.Baseline != "" {
		if _, ok := names[s.Baseline]; !ok {
			top("baseline %q is not one of the variants (%s)", s.Baseline, strings.Join(sortedKeys(names), ", "))
		}
	} else if len(s.Variants) > 0 {
		s.Baseline = s.Variants[0].Name
	}
	for _, t := range s.Thresholds {
		matched := false
		for n := range names {
			if ok, _ := path.Match(t.Variant, n); ok {
				matched = true
			}
		}
		if !matched {
			at(t.Line, "threshold variant %q matches no variant", t.Variant)
		}
	}
	for i := range s.Variants {
		defaults(&s.Variants[i])
	}
	if s.Workload.Arguments == nil {
		s.Workload.Arguments = json.RawMessage(map[string]string{
			"echo": `{"message":"hello"}`, "compute": `{"rounds":100}`, "payload": `{"bytes":1024}`, "sleep": `{"ms":1}`,
		}[s.Workload.Tool])
	}
}

func sortedKeys(m map[string]int) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// checkVariant says what is impossible about v, or "": its stack's own
// rules (StackKinds), then the rules for keys that only some stacks take.
func checkVariant(v *Variant) string {
	k, ok := StackKinds[v.Stack]
	if !ok {
		return "stack is required: one of " + strings.Join(Stacks, ", ")
	}
	if why := k.check(v); why != "" {
		return why
	}
	if !k.MCPKeys && (v.Transport != "" || v.Stateful || v.Reply != "") {
		return "transport, stateful and reply are for mcp variants"
	}
	if v.Tokens == "opaque" && v.Auth == "jwt" {
		return "opaque tokens cannot be verified locally: use auth introspect"
	}
	if (v.Alg != "" || v.Cache || v.FreshTokens || v.Tokens != "" || v.ClientAuth != "") && (v.Auth == "" || v.Auth == "none" || v.Auth == "apikey") {
		return "alg, tokens, cache, fresh_tokens and client_auth need auth jwt or introspect"
	}
	if v.DPoP != "" && v.Auth != "jwt" && v.Auth != "introspect" {
		return "dpop needs auth jwt or introspect"
	}
	if v.DPoP != "" && !(v.Stack == "mcp" && (v.Transport == "" || v.Transport == "http") || v.Stack == "gateway" && v.Impl != "haproxy") {
		return "dpop is for MCP over Streamable HTTP and the Go gateway (HAProxy 2.6 has no DPoP)"
	}
	if v.TLS != "" && (v.Stack == "external" || v.Stack == "mcp" && v.Transport != "" && v.Transport != "http") {
		return "tls is for the HTTP stacks the run serves: mcp over Streamable HTTP, gateway, graphql and rest"
	}
	if v.Balance != "" && v.Replicas == 0 {
		return "balance needs replicas"
	}
	if v.Replicas > 16 || v.UpstreamReplicas > 16 {
		return "replicas and upstream_replicas: at most 16"
	}
	if v.UpstreamReplicas > 0 && v.Stack != "gateway" {
		return "upstream_replicas is for gateways: their REST upstream, spread over replicas behind HAProxy"
	}
	if v.Replicas > 0 && (v.Stack == "external" || v.Stack == "mcp" && v.Transport != "" && v.Transport != "http" || v.TLS != "" || v.HTTP2 || v.Fault != "") {
		return "replicas are for the HTTP stacks the run serves, over plain HTTP/1.1 (the balancer speaks it), without a fault"
	}
	if v.TLSGroup != "" && v.TLS == "" {
		return "tls_group needs tls"
	}
	if v.HTTP2 && !(v.Stack == "mcp" && v.Impl == "sdk" && (v.Transport == "" || v.Transport == "http") || v.Stack == "graphql" ||
		v.Stack == "gateway" && v.Impl == "haproxy" && v.TLS != "") {
		return "http2 is for the servers that speak it: mcp impl sdk over Streamable HTTP, graphql, and gateway impl haproxy with tls (fasthttp's servers speak HTTP/1.1 only)"
	}
	if v.HTTP2 && (v.TLS == "resumed" || v.TLS == "full") {
		return "http2 multiplexes calls on one connection: tls keep-alive, not a new connection per call"
	}
	if v.RateLimit > 0 && !k.Limiter {
		return "rate_limit is for the stacks with a limiter: gateway and graphql"
	}
	if v.RateLimit > 0 && v.Impl == "haproxy" && (v.RateLimit < 1 || v.RateLimit != math.Trunc(v.RateLimit)) {
		return "HAProxy counts whole requests per second: rate_limit must be a whole number"
	}
	if v.Spin > 0 && (v.Stack != "mcp" || v.Impl != "fast") {
		return "spin (a known CPU cost per call) is for the fast MCP server: stack mcp, impl fast"
	}
	if v.Stateful && v.Transport != "" && v.Transport != "http" {
		return "stateful is for transport http"
	}
	switch v.Fault {
	case "":
		if v.FaultAt != 0 || v.FaultFor != 0 {
			return "fault_at and fault_for need a fault"
		}
	case "stall", "issuer-down":
		if v.FaultFor == 0 {
			return "fault " + v.Fault + " needs fault_for, how long it lasts"
		}
	}
	if (v.Fault == "issuer-down" || v.Fault == "rotate-keys") && v.Auth != "jwt" && v.Auth != "introspect" {
		return "fault " + v.Fault + " needs an authorization server: auth jwt or introspect"
	}
	if (v.Fault == "kill" || v.Fault == "stall") && (k.Serve == nil || v.Transport == "stdio") {
		return "fault " + v.Fault + " needs a server mcpbench starts over HTTP"
	}
	return ""
}

// defaults fills what a variant left out.
func defaults(v *Variant) {
	if v.Auth == "" {
		v.Auth = "none"
	}
	if d := StackKinds[v.Stack].defaults; d != nil {
		d(v)
	}
	if v.Auth == "jwt" || v.Auth == "introspect" {
		if v.Alg == "" {
			v.Alg = "RS256"
		}
		if v.Tokens == "" {
			v.Tokens = "jwt"
		}
		if v.ClientAuth == "" {
			v.ClientAuth = "secret"
		}
	}
}
