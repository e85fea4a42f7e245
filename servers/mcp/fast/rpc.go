package fast

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/mcpbench/mcpbench/internal/jsonscan"
	"github.com/mcpbench/mcpbench/servers/tools"
	"github.com/valyala/fasthttp"
)

var errBadFixed = errors.New("fast: internal error: a fixed result is not valid JSON")

// reply is what serving a body decided about the HTTP answer.
type reply struct {
	status int  // 202: no body
	sse    bool // answer as an SSE stream (only for 200)
}

// headers are the MCP request headers, read once per HTTP request.
type headers struct {
	version []byte // MCP-Protocol-Version, nil if absent
	method  []byte // Mcp-Method
	name    []byte // Mcp-Name
}

const (
	ssePrefix = "event: message\ndata: "
	sseSuffix = "\n\n"
)

// serve answers the JSON-RPC body and returns out with the reply body
// appended; r says the status and framing.
func (s *Server) serve(ctx *fasthttp.RequestCtx, body, out []byte, r *reply) []byte {
	h := headers{
		version: ctx.Request.Header.Peek("Mcp-Protocol-Version"),
		method:  ctx.Request.Header.Peek("Mcp-Method"),
		name:    ctx.Request.Header.Peek("Mcp-Name"),
	}
	msg := jsonscan.Trim(body)
	// JSON exchanged between systems must be UTF-8 (RFC 8259 §8.1); checking
	// it here means raw pieces of the body (ids) can be echoed as they are.
	if !json.Valid(body) || len(msg) == 0 || !utf8.Valid(body) {
		r.status, r.sse = 400, false
		return appendError(out, nil, codeParseError, "Parse error: the body is not valid UTF-8 JSON")
	}
	if msg[0] == '[' {
		return s.serveBatch(ctx, &h, msg, out, r)
	}
	start := len(out)
	if r.sse {
		out = append(out, ssePrefix...)
	}
	at := len(out)
	out, ok := s.handle(ctx, &h, msg, false, out, r)
	switch {
	case !ok:
		r.status = fasthttp.StatusAccepted
		return out[:start]
	case r.sse && r.status == 200:
		return append(out, sseSuffix...)
	case r.sse:
		// An error with its own HTTP status goes as plain JSON.
		r.sse = false
		return out[:start+copy(out[start:], out[at:])]
	}
	return out
}

// serveBatch answers a JSON-RPC batch, which only 2025-03-26 allows
// (2025-06-18 removed batching, and 2026-07-28 takes one message per POST).
func (s *Server) serveBatch(ctx *fasthttp.RequestCtx, h *headers, batch, out []byte, r *reply) []byte {
	r.status = 400
	if h.version != nil && !isSupported(h.version) {
		r.sse = false
		return appendUnsupportedVersion(out, nil, h.version)
	}
	if h.version != nil && string(h.version) != v20250326 {
		r.sse = false
		return appendError(out, nil, codeInvalidRequest, "Invalid Request: JSON-RPC batches are not allowed in protocol version "+legacyOrModern(h.version))
	}
	it, _ := jsonscan.Array(batch)
	start, n, responses := len(out), 0, 0
	if !r.sse {
		out = append(out, '[')
	}
	var er reply
	for {
		v, ok := it.Elem()
		if !ok {
			break
		}
		n++
		mark := len(out)
		if r.sse {
			out = append(out, ssePrefix...)
		} else if responses > 0 {
			out = append(out, ',')
		}
		out, ok = s.handle(ctx, h, v, true, out, &er)
		if !ok {
			out = out[:mark]
			continue
		}
		if r.sse {
			out = append(out, sseSuffix...)
		}
		responses++
	}
	switch {
	case n == 0:
		r.sse = false
		return appendError(out[:start], nil, codeInvalidRequest, "Invalid Request: empty batch")
	case responses == 0:
		r.status = fasthttp.StatusAccepted
		return out[:start]
	}
	r.status = 200
	if !r.sse {
		out = append(out, ']')
	}
	return out
}

func legacyOrModern(v []byte) string {
	if string(v) == v20260728 {
		return v20260728
	}
	if lv := legacyVersion(v); lv != "" {
		return lv
	}
	return "(unsupported)"
}

// envelope holds the raw members of a JSON-RPC message (nil when absent).
type envelope struct {
	jsonrpc, id, method, params, result, err []byte
}

// parseEnvelope reads a message; a non-empty problem makes it an Invalid
// Request. The id is kept only if it is a valid MCP id (string or integer).
func parseEnvelope(v []byte) (e envelope, method []byte, problem string) {
	it, ok := jsonscan.Object(v)
	if !ok {
		return e, nil, "Invalid Request: a message must be a JSON object"
	}
	for {
		k, val, ok := it.Member()
		if !ok {
			break
		}
		var dst *[]byte
		switch {
		case jsonscan.KeyIs(k, "jsonrpc"):
			dst = &e.jsonrpc
		case jsonscan.KeyIs(k, "id"):
			dst = &e.id
		case jsonscan.KeyIs(k, "method"):
			dst = &e.method
		case jsonscan.KeyIs(k, "params"):
			dst = &e.params
		case jsonscan.KeyIs(k, "result"):
			dst = &e.result
		case jsonscan.KeyIs(k, "error"):
			dst = &e.err
		default:
			continue
		}
		if *dst != nil {
			problem = "Invalid Request: a member appears twice"
		}
		*dst = val
	}
	if e.id != nil && !(e.id[0] == '"' || jsonscan.IsInteger(e.id)) {
		e.id = nil
		if problem == "" {
			problem = "Invalid Request: id must be a string or an integer"
		}
	}
	if problem != "" {
		return e, nil, problem
	}
	if v, ok := jsonscan.String(e.jsonrpc); !ok || string(v) != "2.0" {
		return e, nil, `Invalid Request: "jsonrpc" must be "2.0"`
	}
	if e.method != nil {
		if method, ok = jsonscan.String(e.method); !ok {
			return e, nil, `Invalid Request: "method" must be a string`
		}
	}
	return e, method, ""
}

// params holds the raw members of a request's params that the server reads.
type params struct {
	name, uri, arguments, cursor, protocolVersion []byte
	metaVersion, metaCaps, metaInfo               []byte // from _meta
	meta                                          []byte
}

// parseParams reads params (absent or null means none).
func parseParams(v []byte) (p params, problem string) {
	if jsonscan.IsNull(v) {
		return p, ""
	}
	it, ok := jsonscan.Object(v)
	if !ok {
		return p, "Invalid params: params must be an object"
	}
	for {
		k, val, ok := it.Member()
		if !ok {
			break
		}
		switch {
		case jsonscan.KeyIs(k, "name"):
			p.name = val
		case jsonscan.KeyIs(k, "uri"):
			p.uri = val
		case jsonscan.KeyIs(k, "arguments"):
			p.arguments = val
		case jsonscan.KeyIs(k, "cursor"):
			p.cursor = val
		case jsonscan.KeyIs(k, "protocolVersion"):
			p.protocolVersion = val
		case jsonscan.KeyIs(k, "_meta"):
			p.meta = val
		}
	}
	if jsonscan.IsNull(p.meta) {
		return p, ""
	}
	it, ok = jsonscan.Object(p.meta)
	if !ok {
		return p, "Invalid params: _meta must be an object"
	}
	for {
		k, val, ok := it.Member()
		if !ok {
			break
		}
		switch {
		case jsonscan.KeyIs(k, "io.modelcontextprotocol/protocolVersion"):
			p.metaVersion = val
		case jsonscan.KeyIs(k, "io.modelcontextprotocol/clientCapabilities"):
			p.metaCaps = val
		case jsonscan.KeyIs(k, "io.modelcontextprotocol/clientInfo"):
			p.metaInfo = val
		}
	}
	return p, ""
}

// call is one request being answered.
type call struct {
	id     []byte
	modern bool
	r      *reply
	raw    []byte // the params as sent, for the fixtures (which decode them whole)
}

// fail appends an error response and sets the status that carries it.
func (c *call) fail(out []byte, code int, msg string) []byte {
	c.r.status = httpStatus(code, c.modern)
	return appendError(out, c.id, code, msg)
}

// handle answers one message. It returns false when there is nothing to
// answer (a notification, or a response the client sent).
func (s *Server) handle(ctx *fasthttp.RequestCtx, h *headers, raw []byte, inBatch bool, out []byte, r *reply) ([]byte, bool) {
	r.status = 200
	e, method, problem := parseEnvelope(raw)
	c := call{id: e.id, modern: string(h.version) == v20260728, r: r, raw: e.params}
	if problem != "" {
		return c.fail(out, codeInvalidRequest, problem), true
	}
	if h.version != nil && !isSupported(h.version) {
		r.status = 400
		return appendUnsupportedVersion(out, e.id, h.version), true
	}
	if e.method == nil {
		if e.id != nil && (e.result != nil || e.err != nil) {
			if c.modern {
				return c.fail(out, codeInvalidRequest, "Invalid Request: a client must not send JSON-RPC responses"), true
			}
			return out, false // a response to nothing we asked: accepted and dropped
		}
		return c.fail(out, codeInvalidRequest, `Invalid Request: "method" is missing`), true
	}
	if e.id == nil {
		// A notification. 2026-07-28 defines no header rules for these
		// (streamable-http: "header requirements for notification POSTs are
		// not defined"), but a Mcp-Method that is sent must not lie.
		if c.modern && h.method != nil && !bytes.Equal(h.method, method) {
			return c.fail(out, codeHeaderMismatch, "Header mismatch: Mcp-Method header does not match the body's method"), true
		}
		return out, false
	}

	p, problem := parseParams(e.params)
	if problem != "" {
		return c.fail(out, codeInvalidParams, problem), true
	}
	if out, bad := s.checkModern(h, method, &p, &c, out); bad {
		return out, true
	}
	if c.modern {
		return s.dispatchModern(ctx, method, &p, &c, out), true
	}
	return s.dispatchLegacy(ctx, h, method, &p, &c, inBatch, out), true
}

// checkModern decides whether a request follows 2026-07-28 (its header says
// so, or its _meta carries a protocol version) and, if so, checks _meta and
// the Mcp-* headers against the body. It returns true when it has answered.
func (s *Server) checkModern(h *headers, method []byte, p *params, c *call, out []byte) ([]byte, bool) {
	if !c.modern && p.metaVersion == nil {
		return out, false
	}
	c.modern = true // errors below are 2026-07-28 errors
	mv, ok := jsonscan.String(p.metaVersion)
	switch {
	case h.version == nil:
		return c.fail(out, codeHeaderMismatch, "Header mismatch: the MCP-Protocol-Version header is required"), true
	case p.metaVersion == nil:
		return c.fail(out, codeInvalidParams, `Invalid params: _meta["io.modelcontextprotocol/protocolVersion"] is required`), true
	case !ok:
		return c.fail(out, codeInvalidParams, `Invalid params: _meta["io.modelcontextprotocol/protocolVersion"] must be a string`), true
	case !bytes.Equal(h.version, mv):
		return c.fail(out, codeHeaderMismatch, "Header mismatch: MCP-Protocol-Version header does not match _meta protocolVersion"), true
	case string(mv) != v20260728:
		c.modern = false // an earlier version that happens to carry _meta
		return out, false
	}
	if len(p.metaCaps) == 0 || p.metaCaps[0] != '{' {
		return c.fail(out, codeInvalidParams, `Invalid params: _meta["io.modelcontextprotocol/clientCapabilities"] must be an object`), true
	}
	if p.metaInfo != nil && p.metaInfo[0] != '{' {
		return c.fail(out, codeInvalidParams, `Invalid params: _meta["io.modelcontextprotocol/clientInfo"] must be an object`), true
	}
	switch {
	case h.method == nil:
		return c.fail(out, codeHeaderMismatch, "Header mismatch: the Mcp-Method header is required"), true
	case !bytes.Equal(h.method, method):
		return c.fail(out, codeHeaderMismatch, "Header mismatch: Mcp-Method header does not match the body's method"), true
	}
	var src []byte
	switch string(method) {
	case "tools/call", "prompts/get":
		src = p.name
	case "resources/read":
		src = p.uri
	default:
		return out, false
	}
	want, ok := jsonscan.String(src)
	switch {
	case !ok:
		return c.fail(out, codeInvalidParams, "Invalid params: the name (or uri) must be a string"), true
	case h.name == nil:
		return c.fail(out, codeHeaderMismatch, "Header mismatch: the Mcp-Name header is required for "+string(method)), true
	case !nameMatches(h.name, want):
		return c.fail(out, codeHeaderMismatch, "Header mismatch: Mcp-Name header does not match the body's name"), true
	}
	return out, false
}

// nameMatches compares an Mcp-Name header with the body's value, decoding
// the =?base64?…?= form first.
func nameMatches(header, body []byte) bool {
	enc, ok := bytes.CutPrefix(header, []byte("=?base64?"))
	if ok {
		enc, ok = bytes.CutSuffix(enc, []byte("?="))
	}
	if !ok {
		return bytes.Equal(header, body)
	}
	var buf [192]byte
	dst := buf[:]
	if n := base64.StdEncoding.DecodedLen(len(enc)); n > len(dst) {
		dst = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(dst, enc)
	return err == nil && bytes.Equal(dst[:n], body)
}

func (s *Server) dispatchModern(ctx *fasthttp.RequestCtx, method []byte, p *params, c *call, out []byte) []byte {
	switch string(method) {
	case "tools/call":
		return s.callTool(ctx, p, c, out)
	case "tools/list":
		if !jsonscan.IsNull(p.cursor) {
			return c.fail(out, codeInvalidParams, "Invalid params: unknown cursor")
		}
		return appendResult(out, c.id, s.toolsModern)
	case "server/discover":
		return appendResult(out, c.id, s.discover)
	}
	if s.fix != nil {
		in := fixIn{id: c.id, raw: c.raw, cursor: p.cursor, sse: c.r.sse}
		if out, rep, ok := s.fix.dispatch(ctx, method, in, out); ok {
			*c.r = rep
			return out
		}
	}
	return c.fail(out, codeMethodNotFound, "Method not found: "+string(method))
}

func (s *Server) dispatchLegacy(ctx *fasthttp.RequestCtx, h *headers, method []byte, p *params, c *call, inBatch bool, out []byte) []byte {
	switch string(method) {
	case "tools/call":
		return s.callTool(ctx, p, c, out)
	case "tools/list":
		if !jsonscan.IsNull(p.cursor) {
			return c.fail(out, codeInvalidParams, "Invalid params: unknown cursor")
		}
		return appendResult(out, c.id, s.toolsLegacy)
	case "ping":
		return appendResult(out, c.id, []byte("{}"))
	case "initialize":
		if inBatch {
			return c.fail(out, codeInvalidRequest, "Invalid Request: initialize must not be part of a batch")
		}
		v, ok := jsonscan.String(p.protocolVersion)
		if !ok {
			return c.fail(out, codeInvalidParams, "Invalid params: initialize needs params.protocolVersion (a string)")
		}
		// Answer the client's version if it is one we serve by
		// initialize, else the newest such (2025-11-25 lifecycle rules).
		version := legacyVersion(v)
		if version == "" {
			version = v20251125
		}
		out = appendHead(out, c.id, `"result":`)
		out = appendInitializeResult(out, version)
		return append(out, '}')
	}
	return c.fail(out, codeMethodNotFound, "Method not found: "+string(method))
}

// callTool runs tools/call.
func (s *Server) callTool(ctx *fasthttp.RequestCtx, p *params, c *call, out []byte) []byte {
	name, ok := jsonscan.String(p.name)
	if !ok {
		return c.fail(out, codeInvalidParams, "Invalid params: tools/call needs params.name (a string)")
	}
	if s.spin > 0 {
		spin(s.spin)
	}
	text, err := tools.Call(ctx, toolName(name), p.arguments)
	isError := false
	if err != nil {
		var ae *tools.ArgError
		switch {
		case errors.As(err, &ae):
			text, isError = ae.Error(), true
		case errors.Is(err, tools.ErrUnknownTool):
			// Fixture tools are looked up only here, off the benchmark
			// tools' path.
			if s.fix != nil && c.modern {
				in := fixIn{id: c.id, raw: c.raw, sse: c.r.sse}
				if out, rep, ok := s.fix.callTool(ctx, name, in, out); ok {
					*c.r = rep
					return out
				}
			}
			return c.fail(out, codeInvalidParams, fmt.Sprintf("unknown tool %q", name))
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return c.fail(out, codeInternalError, "Internal error: the call was cancelled (server shutting down)")
		default:
			return c.fail(out, codeInternalError, "Internal error: "+err.Error())
		}
	}
	out = appendHead(out, c.id, `"result":`)
	out = appendToolResult(out, text, isError)
	if c.modern {
		out = append(out, s.modernTail...)
	} else {
		out = append(out, '}')
	}
	return append(out, '}')
}

// toolNames interns the tool names so that a call does not allocate one.
var toolNames = tools.Names()

func toolName(b []byte) string {
	for _, n := range toolNames {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}

// spin burns d of CPU: a busy loop on the monotonic clock. Unlike a sleep
// it keeps the CPU, so it adds d to the call's latency and about d to the
// server's CPU time — a known answer for the benchmark's calibration row.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
