// Package scenario reads and checks mcpbench's scenario files — which
// stacks to compare, what to call, how hard, how many interleaved rounds,
// which variant the others are compared with, the thresholds that fail a
// run — and holds the stack registry (registry.go): one entry per stack
// saying what a variant of it may say, how its server is started and how
// it is called. Package orchestrate runs what a scenario says.
//
//	s, err := scenario.Load("scenarios/default.yaml")
//	// err names the file, line and column, and says how to fix it
//	sum, err := (&orchestrate.Runner{Scenario: s}).Run(ctx)
//
// scenarios/README.md documents every key.
package scenario

import (
	"encoding/json"
	"time"
)

// Scenario is one parsed scenario file.
type Scenario struct {
	File string
	// SHA256 is the hex SHA-256 of the file's bytes as Load read them;
	// empty for a scenario parsed from memory.
	SHA256      string
	Name        string
	Description string
	// Rounds is how many interleaved rounds run: each variant gets one
	// Segment per round (the baseline more, with order adjacent). Default 3.
	Rounds int
	// Order is how segments follow each other: OrderAdjacent (default) or
	// OrderRotate.
	Order string
	// Segment is the measured length of one variant in one round. Default 5s.
	Segment time.Duration
	// Warmup precedes every segment, unrecorded. Default 1s.
	Warmup   time.Duration
	Load     LoadSpec
	Workload Workload
	// CPUs pins the generator and the servers; empty means the plan of
	// proc.Plan (servers on the upper half).
	CPUs CPUs
	// Floor adds the machine's floor (raw TCP echo, minimal HTTP) as rows.
	Floor bool
	// Baseline is the variant deltas are taken against.
	Baseline   string
	Variants   []Variant
	Thresholds []Threshold
	Saturation *Saturation
	Tokenomics *Tokenomics
}

// LoadSpec is how hard each segment drives its variant.
type LoadSpec struct {
	Rate        float64       // open loop, requests per second
	Closed      bool          // closed loop instead, Connections callers
	Connections int           // default 16
	RampTo      float64       // ramp from Rate to this over the segment
	Step        float64       // add this to the rate every StepEvery
	StepEvery   time.Duration //
	Timeout     time.Duration // per call; default 10s
}

// Workload is the one call every variant makes.
type Workload struct {
	Tool      string          // echo (default), compute, payload, sleep
	Arguments json.RawMessage // default {"message":"hello"} for echo
}

// CPUs places the generator and the servers, as CPU lists ("0", "1-3").
type CPUs struct {
	Generator, Servers string
}

// Variant is one stack configuration under test.
type Variant struct {
	Name string
	// Stack is mcp, gateway, graphql, rest, external, http-floor or tcp-floor.
	Stack string
	// Impl: for mcp, sdk or fast; for gateway, go or haproxy.
	Impl string
	// Transport (mcp): http, sse (legacy) or stdio.
	Transport string
	Stateful  bool   // mcp over http: sessions (2025-11-25)
	Reply     string // mcp over http: json or sse
	Protocol  string // the client's protocol: auto, 2026-07-28 or 2025-11-25
	// Auth: none, jwt, introspect (bearer tokens from the embedded
	// authorization server) or apikey (gateways).
	Auth   string
	Alg    string // jwt: HS256, RS256, ES256 or EdDSA; default RS256
	Tokens string // the authorization server's tokens: jwt or opaque
	Cache  bool   // the server's verified-token cache
	// FreshTokens gives every call its own token, so that no cache helps.
	FreshTokens bool
	// ClientAuth is how the harness's OAuth client authenticates to the
	// token endpoint: secret (client_secret_basic, the default) or
	// private_key_jwt (a signed JWT assertion per token request, RFC 7523;
	// its signing is part of each token's cost).
	ClientAuth string
	// DPoP makes the server take DPoP-bound tokens (RFC 9449), required
	// or allowed; the harness then gets bound tokens and signs a fresh
	// proof (ES256) for every call.
	DPoP string
	// TLS serves the variant over HTTPS, with a certificate from the
	// run's CA that the generator verifies, in a connection mode:
	// keep-alive (a handshake per connection), resumed (a new connection
	// per call, resuming the session from a ticket) or full (a new
	// connection and a full handshake per call). "" is plain HTTP.
	TLS string
	// TLSGroup, with TLS, is the one key-exchange group the generator
	// offers (X25519, X25519MLKEM768, P256, …); "" offers Go's default
	// list (X25519MLKEM768 first).
	TLSGroup string
	// Replicas, when positive, serves the variant as that many replicas
	// behind HAProxy as a load balancer (so that 1, 2 and 4 replicas are
	// compared on one footing); Balance is how it spreads the calls:
	// roundrobin (the default), or session (an MCP session's requests to
	// the replica that started it).
	Replicas int
	Balance  string
	// UpstreamReplicas (gateway) puts the gateway's REST upstream behind
	// HAProxy as that many replicas: the gateway as one tier in front of
	// a spread-out service, where Replicas spreads the gateway itself.
	UpstreamReplicas int
	// HTTP2 makes the calls over HTTP/2 (h2 by ALPN with tls, else h2c),
	// every call a stream on one connection; for the servers that speak
	// it: the official SDK, GraphQL, and HAProxy over TLS.
	HTTP2 bool
	// URL and Command name an external server (stack external).
	URL     string
	Command []string
	// RateLimit (gateway, graphql) is the stack's limit, requests per
	// second per key, subject or client; 0 leaves it at 1e6, evaluated on
	// every call but out of reach (the fair-comparison rule). An overload
	// scenario sets it to trip.
	RateLimit float64
	// Spin (mcp, impl fast) makes every tools/call burn this much CPU: a
	// known cost, so that the run can check it measures what it should.
	Spin time.Duration
	// Fault is injected once, FaultAt into the first round's measured
	// segment: kill (the server, SIGKILL), stall (the server stopped for
	// FaultFor), issuer-down (the authorization server stopped for
	// FaultFor), rotate-keys (the authorization server makes a new key).
	Fault    string
	FaultAt  time.Duration
	FaultFor time.Duration
	Line     int // where it was defined
}

// Threshold fails a run when a variant misses it.
type Threshold struct {
	Variant string // a name or a glob: "*", "mcp-*"
	// Upper bounds; zero means unchecked.
	P50, P90, P99, P999, Max time.Duration
	Errors                   float64 // fraction of calls, 0.001 = 0.1%
	ErrorsSet                bool
	MinRate                  float64 // achieved requests per second
	Line                     int
}

// Saturation steps the rate up until the variant cannot keep it.
type Saturation struct {
	Start, Step, Max float64       // requests per second
	Every            time.Duration // length of each step
	SLOP99           time.Duration // p99 above this ends the search
}

// Tokenomics amortises token acquisition over the calls a token serves.
type Tokenomics struct {
	Lifetimes []time.Duration
}

// The values of the order key: how a round lays its segments out.
const (
	// OrderAdjacent puts every segment of a compared variant between two
	// of the baseline's, so that each comparison is drawn from segments
	// run next to each other in time: B V1 B V2 … B Vn B, round after
	// round, the variants' order rotated each round and reversed every
	// other round. Variants that are not compared (the floor rows) run
	// after the round's last baseline segment. The default.
	OrderAdjacent = "adjacent"
	// OrderRotate runs every variant once a round, in an order rotated
	// each round; a comparison pairs each round's segment with the
	// baseline's of the same round. The first wave's design.
	OrderRotate = "rotate"
)

// Orders are the values of the order key.
var Orders = []string{OrderAdjacent, OrderRotate}
