package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `
name: demo
description: two MCP servers with and without JWT
rounds: 5
segment: 2s
warmup: 500ms
floor: true
load:
  rate: 2.5k
  connections: 8
workload:
  tool: echo
  arguments: {message: hi}
baseline: mcp-fast-none
matrix:
  name: "mcp-{impl}-{auth}"
  base: {stack: mcp, transport: http}
  axes:
    impl: [fast, sdk]
    auth: [none, jwt]
variants:
  - name: gw-key
    stack: gateway
    auth: apikey
    rate_limit: 1.5k
thresholds:
  - variant: "mcp-*"
    p99: 5ms
    errors: 0.1%
`

func TestParseGood(t *testing.T) {
	s, err := Parse("demo.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "demo" || s.Rounds != 5 || s.Segment != 2*time.Second || s.Warmup != 500*time.Millisecond || !s.Floor {
		t.Errorf("header: %+v", s)
	}
	if s.Load.Rate != 2500 || s.Load.Connections != 8 || s.Load.Timeout != 10*time.Second {
		t.Errorf("load: %+v", s.Load)
	}
	if string(s.Workload.Arguments) != `{"message":"hi"}` {
		t.Errorf("arguments %s", s.Workload.Arguments)
	}
	var names []string
	for _, v := range s.Variants {
		names = append(names, v.Name)
	}
	if strings.Join(names, " ") != "mcp-fast-none mcp-fast-jwt mcp-sdk-none mcp-sdk-jwt gw-key" {
		t.Errorf("variants %v", names)
	}
	v := s.Variants[1]
	if v.Stack != "mcp" || v.Impl != "fast" || v.Auth != "jwt" || v.Alg != "RS256" || v.Tokens != "jwt" || v.Transport != "http" || v.Reply != "json" || v.Protocol != "2026-07-28" {
		t.Errorf("expanded variant with defaults: %+v", v)
	}
	if g := s.Variants[4]; g.Impl != "go" || g.Auth != "apikey" || g.RateLimit != 1500 {
		t.Errorf("gateway defaults: %+v", g)
	}
	if th := s.Thresholds[0]; th.P99 != 5*time.Millisecond || th.Errors != 0.001 || !th.ErrorsSet {
		t.Errorf("threshold %+v", th)
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // in the error, all of them
	}{
		{"empty", ``, []string{"the file is empty"}},
		{"not yaml", "name: [", []string{"x.yaml"}},
		{"unknown key", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\nrouns: 3\n", []string{"x.yaml:4:1", `unknown key "rouns"`, `did you mean "rounds"?`}},
		{"unknown nested key", "name: a\nload: {rate: 5, durration: 5s}\nvariants: [{name: v, stack: rest}]\n", []string{"x.yaml:2:17", `"durration" in load`}},
		{"negative rate", "name: a\nload:\n  rate: -5\nvariants: [{name: v, stack: rest}]\n", []string{"x.yaml:3:9", "load.rate is requests per second", `"-5"`}},
		{"rate not a number", "name: a\nload: {rate: fast}\nvariants: [{name: v, stack: rest}]\n", []string{"x.yaml:2:14", "load.rate"}},
		{"duration without unit", "name: a\nsegment: 5\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\n", []string{"x.yaml:2:10", "needs a unit"}},
		{"rounds zero", "name: a\nrounds: 0\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\n", []string{"x.yaml:2:9", "at least 1"}},
		{"bool as string", "name: a\nfloor: yes please\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\n", []string{"x.yaml:2:8", "true or false"}},
		{"repeated key", "name: a\nname: b\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\n", []string{"x.yaml:2:1", "given twice"}},
		// Six axes of ten values made a million variants; the fuzzer calls that a
		// hang (testdata/fuzz/FuzzParse/matrix-million).
		{"matrix too big", "name: a\nload: {rate: 5}\nmatrix: {name: \"m-{impl}{alg}{auth}{reply}\", base: {stack: mcp}, axes: {impl: [fast, sdk, a, b, c, d], alg: [RS256, ES256, a, b, c, d], auth: [jwt, none, a, b, c, d], reply: [json, sse, a, b, c, d]}}\n",
			[]string{"x.yaml:3:9", "6 × 6 × 6 × 6 variants, past the 1000"}},
		{"rate limit on mcp", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, rate_limit: 100}]\n", []string{"x.yaml:3", "rate_limit is for the stacks with a limiter"}},
		{"fractional HAProxy limit", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: gateway, impl: haproxy, rate_limit: 10.5}]\n", []string{"x.yaml:3", "whole number"}},
		{"spin on the sdk", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, impl: sdk, spin: 20us}]\n", []string{"x.yaml:3", "spin (a known CPU cost per call) is for the fast MCP server"}},
		{"spin without a unit", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, impl: fast, spin: 20}]\n", []string{"x.yaml:3", "spin must be a positive duration", "needs a unit"}},
		{"rate limit not a rate", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: gateway, rate_limit: lots}]\n", []string{"x.yaml:3", "rate_limit is requests per second"}},
		{"no name", "load: {rate: 5}\nvariants: [{name: v, stack: rest}]\n", []string{"needs a name"}},
		{"no rate", "name: a\nvariants: [{name: v, stack: rest}]\n", []string{"needs a rate"}},
		{"closed with rate", "name: a\nload: {rate: 5, closed: true}\nvariants: [{name: v, stack: rest}]\n", []string{"drop rate"}},
		{"no variants", "name: a\nload: {rate: 5}\n", []string{"no variants"}},
		{"unknown stack", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: grpc}]\n", []string{"x.yaml:3:29", "stack is one of"}},
		{"duplicate variant", "name: a\nload: {rate: 5}\nvariants:\n  - {name: v, stack: rest}\n  - {name: v, stack: rest}\n", []string{"x.yaml:5", `"v" is defined twice (first at line 4)`}},
		{"fast over stdio", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, impl: fast, transport: stdio}]\n", []string{"stateless Streamable HTTP only"}},
		{"stdio with auth", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, transport: stdio, auth: jwt}]\n", []string{"stdio carries no OAuth"}},
		{"opaque with jwt", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, auth: jwt, tokens: opaque}]\n", []string{"use auth introspect"}},
		{"cache without auth", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, cache: true}]\n", []string{"need auth jwt or introspect"}},
		{"client_auth without auth", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, client_auth: private_key_jwt}]\n", []string{"need auth jwt or introspect"}},
		{"dpop without auth", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, dpop: required}]\n", []string{"dpop needs auth jwt or introspect"}},
		{"dpop on haproxy", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: gateway, impl: haproxy, auth: jwt, dpop: required}]\n", []string{"HAProxy 2.6 has no DPoP"}},
		{"dpop bad mode", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, auth: jwt, dpop: yes}]\n", []string{"required", "allowed"}},
		{"client_auth unknown", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: mcp, auth: jwt, client_auth: mtls}]\n", []string{"client_auth", "private_key_jwt"}},
		{"haproxy introspect", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: gateway, impl: haproxy, auth: introspect}]\n", []string{"HAProxy cannot introspect"}},
		{"external without target", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: external}]\n", []string{"url or command"}},
		{"bad baseline", "name: a\nload: {rate: 5}\nbaseline: w\nvariants: [{name: v, stack: rest}]\n", []string{`baseline "w" is not one of the variants (v)`}},
		{"threshold matches nothing", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\nthresholds: [{variant: x*, p99: 1ms}]\n", []string{"x.yaml:4", "matches no variant"}},
		{"threshold errors above 100%", "name: a\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\nthresholds: [{errors: 200%}]\n", []string{"share of calls"}},
		{"matrix axis not in name", "name: a\nload: {rate: 5}\nmatrix: {name: m, base: {stack: mcp}, axes: {impl: [fast, sdk]}}\n", []string{`axis "impl" is not in the name pattern`}},
		{"matrix unknown axis", "name: a\nload: {rate: 5}\nmatrix: {name: \"m-{colour}\", base: {stack: mcp}, axes: {colour: [red]}}\n", []string{`unknown variant key "colour"`}},
		{"matrix bad value", "name: a\nload: {rate: 5}\nmatrix: {name: \"m-{impl}\", base: {stack: mcp}, axes: {auth: [none, oauth]}}\n", []string{"auth is one of", `"oauth"`}},
		{"tool unknown", "name: a\nload: {rate: 5}\nworkload: {tool: rm}\nvariants: [{name: v, stack: rest}]\n", []string{"workload.tool is one of"}},
		{"variants not a list", "name: a\nload: {rate: 5}\nvariants: {name: v}\n", []string{"variants is a list"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("parsed")
			}
			if !errors.Is(err, ErrScenario) {
				t.Errorf("not ErrScenario: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// FuzzParse: no input makes the parser panic, and what it accepts has a
// name and variants with unique names.
func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add("name: a\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\n")
	f.Add("matrix: {name: \"m-{impl}\", base: {stack: mcp}, axes: {impl: [fast, sdk]}}")
	f.Add("a: &x [*x]")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse("f.yaml", []byte(in))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, v := range s.Variants {
			if v.Name == "" || seen[v.Name] {
				t.Fatalf("accepted variants %+v", s.Variants)
			}
			seen[v.Name] = true
		}
		if s.Name == "" || s.Baseline == "" {
			t.Fatalf("accepted %+v", s)
		}
	})
}

// Load records the SHA-256 of the bytes it read (sha256sum's answer for
// each file here); a scenario parsed from memory has none.
func TestLoadHash(t *testing.T) {
	const tiny = "name: tiny\nload: {rate: 10}\nvariants: [{name: a, stack: rest}]\n"
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
	}{
		{"tiny", tiny, "e20389fddda628a5da1f74dbb000a48e6fd70602655e7f73433d47adf32c2170"},
		{"a comment added", tiny + "# edited\n", "e54cb5fe6fc8662dc8b8423bd7e96e268235e9fb1d1fd8f12249608ae6420c1a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, tc.name+".yaml")
			if err := os.WriteFile(f, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if s.SHA256 != tc.want {
				t.Errorf("SHA256 %s, want %s", s.SHA256, tc.want)
			}
		})
	}
	s, err := Parse("mem.yaml", []byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	if s.SHA256 != "" {
		t.Errorf("a scenario parsed from memory has SHA256 %q", s.SHA256)
	}
}
