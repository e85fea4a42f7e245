package mcp

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/internal/jsonscan"
)

// MCP protocol versions the drivers speak.
const (
	MCP20260728 = "2026-07-28" // stateless: no initialize, _meta on every request
	MCP20251125 = "2025-11-25" // initialize, then a session
	MCP20241105 = "2024-11-05" // the legacy HTTP+SSE transport's version
)

// Outcome codes of an ClassProtocol outcome that carries no JSON-RPC error:
// the call succeeded as JSON-RPC but not as a tool call.
const (
	// ToolErrorCode: the tools/call result has isError true, the tool's
	// own failure reported as a result.
	ToolErrorCode = -1
	// IncompleteCode: the result's resultType is not "complete" (2026-07-28
	// "input_required"): the server wants more from the client, the call
	// did not finish.
	IncompleteCode = -2
)

// Config describes the MCP call a driver repeats: one tools/call.
// Its zero value, with a URL, calls echo {"message":"hello"} over
// Streamable HTTP, stateless, at protocol 2026-07-28.
type Config struct {
	// URL is the Streamable HTTP endpoint (http://host:port/mcp), or the
	// legacy SSE endpoint (the GET stream) with Transport "sse".
	URL string
	// Command is a stdio server's command line, argv (Transport "stdio").
	Command []string
	// Transport is "http" (Streamable HTTP, default), "sse" (the legacy
	// HTTP+SSE transport of 2024-11-05) or "stdio".
	Transport string
	// Protocol is "2026-07-28" (stateless; default over http), "2025-11-25"
	// (initialize and a session per connection; default over stdio),
	// "2025-06-18" or "2025-03-26" (sessions too), "2024-11-05" (default
	// over sse), or "auto": server/discover at 2026-07-28, and when the
	// server does not serve that, initialize with the newest version it
	// accepts.
	Protocol string
	// Tool and Arguments are the call; default echo {"message":"hello"}.
	// Arguments must be a JSON object.
	Tool      string
	Arguments json.RawMessage
	// Header goes on every HTTP request (e.g. a static Authorization).
	Header []driver.Header
	// TLS configures https (roots, or skipping verification); nil means
	// Go's defaults.
	TLS *tls.Config
	// NewConnPerCall closes the connection after every call (Connection:
	// close), so that each call dials, and for https handshakes, afresh.
	// Streamable HTTP only.
	NewConnPerCall bool
	// HTTP2 calls over HTTP/2 (h2 by ALPN for https, h2c with prior
	// knowledge for http) on H2Conns connections (default 1), each call a
	// stream, on net/http's transport; the workers engine only.
	// Streamable HTTP only.
	HTTP2   bool
	H2Conns int
	// Auth, when set, puts credentials on each HTTP request, set-up and
	// teardown included (driver.BearerOf a token source, for a bearer
	// token). If it is also a Preparer, the driver's Prepare runs it
	// first. Not for stdio.
	Auth driver.Authorizer
	// Timeout bounds each setup exchange (dial, server/discover,
	// initialize, the endpoint event, DELETE) whose context has no deadline
	// of its own; default 10s. Calls are bounded by their deadline.
	Timeout time.Duration
}

// New checks cfg and returns the driver for its transport. Each driver
// implements Driver and ByteCounter; the HTTP one also Preparer and
// PhaseReporter, the stdio one ServerCPUReader.
func New(cfg Config) (bench.Driver, error) {
	if cfg.Tool == "" {
		cfg.Tool = "echo"
	}
	for i := 0; i < len(cfg.Tool); i++ {
		if c := cfg.Tool[i]; c <= ' ' || c >= 0x7f {
			return nil, fmt.Errorf("%w: MCP tool name %q: want printable ASCII without spaces (it goes in the Mcp-Name header)", bench.ErrConfig, cfg.Tool)
		}
	}
	if cfg.Arguments == nil {
		cfg.Arguments = json.RawMessage(`{"message":"hello"}`)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, cfg.Arguments); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, fmt.Errorf("%w: MCP arguments %.80q: want a JSON object", bench.ErrConfig, cfg.Arguments)
	}
	cfg.Arguments = buf.Bytes()
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: MCP timeout %v", bench.ErrConfig, cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if (cfg.HTTP2 || cfg.NewConnPerCall) && cfg.Transport != "" && cfg.Transport != "http" {
		return nil, fmt.Errorf("%w: HTTP/2 and a new connection per call are for Streamable HTTP, not %s", bench.ErrConfig, cfg.Transport)
	}
	switch cfg.Transport {
	case "", "http":
		return newStreamable(cfg)
	case "stdio":
		return newStdio(cfg)
	case "sse":
		return newLegacySSE(cfg)
	}
	return nil, fmt.Errorf("%w: MCP transport %q: http, sse or stdio", bench.ErrConfig, cfg.Transport)
}

// checkProtocol checks cfg.Protocol against what a transport speaks, and
// sets it to def when it is empty.
func checkProtocol(cfg *Config, def string, allowed ...string) error {
	if cfg.Protocol == "" {
		cfg.Protocol = def
		return nil
	}
	for _, v := range allowed {
		if cfg.Protocol == v {
			return nil
		}
	}
	t := cfg.Transport
	if t == "" {
		t = "http"
	}
	return fmt.Errorf("%w: MCP protocol %q over %s: want one of %v", bench.ErrConfig, cfg.Protocol, t, allowed)
}

// callBody is the tools/call request of one driver, built once: a
// connection appends its id between rpcPrefix and suffix.
type callBody struct{ suffix []byte }

const rpcPrefix = `{"jsonrpc":"2.0","id":`

// newCallBody builds the request; modern puts the 2026-07-28 _meta in.
func newCallBody(cfg *Config, modern bool) callBody {
	name, _ := json.Marshal(cfg.Tool)
	s := []byte(`,"method":"tools/call","params":{`)
	if modern {
		s = append(s, modernMeta...)
		s = append(s, ',')
	}
	s = append(s, `"name":`...)
	s = append(s, name...)
	s = append(s, `,"arguments":`...)
	s = append(s, cfg.Arguments...)
	return callBody{suffix: append(s, "}}"...)}
}

// append appends the request with id to dst.
func (b callBody) append(dst []byte, id int64) []byte {
	dst = append(dst, rpcPrefix...)
	dst = strconv.AppendInt(dst, id, 10)
	return append(dst, b.suffix...)
}

// modernMeta is the _meta every 2026-07-28 request carries (SEP-2575; the
// go-sdk's names, mcp/protocol.go MetaKeyProtocolVersion and the rest).
// clientCapabilities is required, clientInfo optional (mcp/shared.go
// validateRequestMeta).
const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
	`"io.modelcontextprotocol/clientInfo":{"name":"mcpbench","version":"1"},` +
	`"io.modelcontextprotocol/clientCapabilities":{}}`

func discoverBody(id int64) []byte {
	b := strconv.AppendInt([]byte(rpcPrefix), id, 10)
	return append(b, `,"method":"server/discover","params":{`+modernMeta+`}}`...)
}

func initializeBody(id int64, version string) []byte {
	b := strconv.AppendInt([]byte(rpcPrefix), id, 10)
	return append(b, `,"method":"initialize","params":{"protocolVersion":"`+version+
		`","capabilities":{},"clientInfo":{"name":"mcpbench","version":"1"}}}`...)
}

var initializedNote = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

// rpcMsg is what a driver reads of one JSON-RPC message, found without
// decoding it: raw values sliced from the message (nil when absent), valid
// as long as the message is.
type rpcMsg struct {
	id, method, error, result []byte
}

// scanMsg finds the members of a JSON-RPC message that the drivers need.
// It does not validate the message; it reports false when b is not a JSON
// object it can walk. Of a member given twice, the last counts.
func scanMsg(b []byte, m *rpcMsg) bool {
	*m = rpcMsg{}
	it, ok := jsonscan.Object(b)
	if !ok {
		return false
	}
	for {
		key, val, ok := it.Member()
		if !ok {
			return it.Complete()
		}
		switch {
		case jsonscan.KeyIs(key, "id"):
			m.id = val
		case jsonscan.KeyIs(key, "method"):
			m.method = val
		case jsonscan.KeyIs(key, "error"):
			m.error = val
		case jsonscan.KeyIs(key, "result"):
			m.result = val
		}
	}
}

// isResponse says whether m answers a request (it has no method).
func (m *rpcMsg) isResponse() bool { return m.method == nil }

// idIs says whether m's id is the number id.
func (m *rpcMsg) idIs(id int64) bool {
	var buf [24]byte
	return bytes.Equal(m.id, strconv.AppendInt(buf[:0], id, 10))
}

// outcome classifies a response to a tools/call: a JSON-RPC error is
// ClassProtocol with its code; a result with isError true, or with a
// resultType other than "complete", is ClassProtocol with ToolErrorCode or
// IncompleteCode; a response with neither a result object nor an error is
// ClassTransport (a broken reply).
func (m *rpcMsg) outcome() bench.Outcome {
	if m.error != nil && string(m.error) != "null" {
		return bench.Outcome{Class: bench.ClassProtocol, Code: errorCode(m.error)}
	}
	it, ok := jsonscan.Object(m.result)
	if !ok {
		return bench.Outcome{Class: bench.ClassTransport}
	}
	o := bench.Outcome{Class: bench.OK}
	for {
		key, val, ok := it.Member()
		if !ok {
			if !it.Complete() {
				return bench.Outcome{Class: bench.ClassTransport}
			}
			return o
		}
		switch {
		case jsonscan.KeyIs(key, "isError"):
			if string(val) == "true" {
				o = bench.Outcome{Class: bench.ClassProtocol, Code: ToolErrorCode}
			}
		case jsonscan.KeyIs(key, "resultType"):
			if string(val) != `"complete"` && o.Class == bench.OK {
				o = bench.Outcome{Class: bench.ClassProtocol, Code: IncompleteCode}
			}
		}
	}
}

// errorCode is the integer code of a JSON-RPC error object, or 0.
func errorCode(e []byte) int {
	it, ok := jsonscan.Object(e)
	if !ok {
		return 0
	}
	code := 0
	for {
		key, val, ok := it.Member()
		if !ok {
			return code
		}
		if jsonscan.KeyIs(key, "code") {
			n, err := strconv.ParseInt(string(val), 10, 0)
			if err != nil {
				n = 0
			}
			code = int(n)
		}
	}
}

// errorMessage describes a JSON-RPC error object, for a setup error.
func errorMessage(e []byte) string {
	var x struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(e, &x)
	return fmt.Sprintf("JSON-RPC error %d %q", x.Code, x.Message)
}
