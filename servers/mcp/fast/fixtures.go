package fast

// The conformance fixtures (Options.Fixtures): what the official MCP
// conformance suite's server scenarios call for at 2026-07-28, stateless.
// Its scenarios name tools (test_simple_text, ...), resources
// (test://static-text, ...), prompts (test_simple_prompt, ...), completion
// and per-request logging; this file routes them, and the fixtures_*.go
// files serve them.
//
// Nothing here is on the benchmark tools' path: a fixture tool is looked up
// only once the benchmark tools do not know the name, and other methods only
// once the hot methods did not match. So the fixtures may be built for
// clarity, with encoding/json, not for speed.
//
// What the fixtures are (names, descriptions, schemas, texts, media, what
// they ask the client) is package fixtures, which the sdk server serves too;
// these files only encode and route it.
//
// Everything is stateless like the server: what a multi-round call
// (input-required results, SEP-2322) must remember travels in its
// requestState, sealed by a fixtures.Sealer made in New (a fresh key per
// server) so that a client cannot forge or alter it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcpbench/mcpbench/internal/jsonscan"
	fixdata "github.com/mcpbench/mcpbench/servers/mcp/fixtures"
	"github.com/mcpbench/mcpbench/servers/tools"
	"github.com/valyala/fasthttp"
)

// fixtures holds what Options.Fixtures adds to a Server. It is immutable once
// made.
type fixtures struct {
	s       *Server
	tools   map[string]*fixtureTool
	prompts map[string]*fixturePrompt
	sealer  *fixdata.Sealer // seals requestState

	// Results that never change, encoded once (like the server's own).
	promptsList, resourcesList, templatesList []byte
	inputRequiredTail                         []byte // ,"resultType":"input_required","_meta":{serverInfo}}
}

// fixtureCaps are the capabilities server/discover declares with fixtures.
// Not listChanged nor subscribe: a stateless server has no stream to send
// such notifications on (subscriptions/listen is not served).
const fixtureCaps = `{"tools":{},"prompts":{},"resources":{},"completions":{},"logging":{}}`

// newFixtures builds the fixtures and re-encodes s's tools/list (2026-07-28)
// and server/discover to include them. The 2025-* answers stay as they were.
func newFixtures(s *Server) (*fixtures, error) {
	f := &fixtures{s: s, tools: map[string]*fixtureTool{}, prompts: map[string]*fixturePrompt{}, sealer: fixdata.NewSealer()}
	var listed []any
	for _, t := range tools.List() {
		listed = append(listed, t)
	}
	fixtureTools, err := fixtureTools()
	if err != nil {
		return nil, err
	}
	for _, t := range fixtureTools {
		f.tools[t.Name] = t
		listed = append(listed, t)
	}
	prompts, err := fixturePrompts()
	if err != nil {
		return nil, err
	}
	for _, p := range prompts {
		f.prompts[p.Name] = p
	}
	toolsJSON, err := marshal(listed)
	if err != nil {
		return nil, err
	}
	tail := `,"ttlMs":0,"cacheScope":"public"` + string(s.modernTail)
	s.toolsModern = []byte(`{"tools":` + string(toolsJSON) + tail)
	s.discover = appendStrings([]byte(`{"supportedVersions":`), supportedVersions)
	s.discover = append(s.discover, `,"capabilities":`+fixtureCaps+tail...)
	if f.promptsList, err = listResult("prompts", prompts, tail); err != nil {
		return nil, err
	}
	if f.resourcesList, err = listResult("resources", fixtureResources(), tail); err != nil {
		return nil, err
	}
	if f.templatesList, err = listResult("resourceTemplates", fixtureTemplates(), tail); err != nil {
		return nil, err
	}
	f.inputRequiredTail = bytes.Replace(s.modernTail, []byte(`"complete"`), []byte(`"input_required"`), 1)
	for _, b := range [][]byte{s.toolsModern, s.discover, f.promptsList, f.resourcesList, f.templatesList} {
		if !json.Valid(b) {
			return nil, errBadFixed
		}
	}
	return f, nil
}

// listResult encodes a cacheable list result {"member":[...],...tail.
func listResult(member string, items any, tail string) ([]byte, error) {
	b, err := marshal(items)
	if err != nil {
		return nil, err
	}
	return []byte(`{"` + member + `":` + string(b) + tail), nil
}

// marshal is json.Marshal without HTML escaping (as encodeFixed encodes):
// schemas and texts go out as written.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// fixIn is what the fixtures get of a request from the benchmark path:
// values only, and the fixtures keep copies (see newFixCall). Pointers to
// that path's call, params or reply would make them escape to the heap on
// every request, fixtures or not; the fixtures answer with a reply value
// instead, which the caller copies back.
type fixIn struct {
	id, raw []byte // the request's id and params
	cursor  []byte // params.cursor, as the server read it
	sse     bool   // the reply is an SSE stream already (Options.Reply "sse")
}

// dispatch answers the methods only the fixtures serve; false if method is
// not one of them.
func (f *fixtures) dispatch(ctx *fasthttp.RequestCtx, method []byte, in fixIn, out []byte) ([]byte, reply, bool) {
	var list []byte
	switch string(method) {
	case "prompts/list":
		list = f.promptsList
	case "resources/list":
		list = f.resourcesList
	case "resources/templates/list":
		list = f.templatesList
	case "prompts/get", "resources/read", "completion/complete":
	default:
		return out, reply{}, false
	}
	fc := newFixCall(ctx, in)
	if list != nil {
		if !jsonscan.IsNull(in.cursor) {
			return fc.c.fail(out, codeInvalidParams, "Invalid params: unknown cursor"), fc.rep, true
		}
		return appendResult(out, in.id, list), fc.rep, true
	}
	var a answer
	if err := fc.decode(); err != nil {
		a = answer{err: err}
	} else {
		switch string(method) {
		case "prompts/get":
			a = f.getPrompt(fc)
		case "resources/read":
			a = readResource(fc)
		case "completion/complete":
			a = f.complete(fc)
		}
	}
	return f.write(out, fc, a), fc.rep, true
}

// callTool runs fixture tool name; false if there is none of that name.
func (f *fixtures) callTool(ctx *fasthttp.RequestCtx, name []byte, in fixIn, out []byte) ([]byte, reply, bool) {
	t := f.tools[string(name)]
	if t == nil {
		return out, reply{}, false
	}
	fc := newFixCall(ctx, in)
	var a answer
	if err := fc.decode(); err != nil {
		a = answer{err: err}
	} else if err := t.checkHeaders(ctx, fc.req.Arguments); err != nil {
		a = answer{err: err}
	} else {
		a = t.run(f, fc)
	}
	return f.write(out, fc, a), fc.rep, true
}

// answer is what a fixture decided: a result (complete, or input_required)
// with notifications to send before it, or an error.
type answer struct {
	result        any      // the result's own members; resultType and _meta are added
	inputRequired bool     // resultType "input_required" rather than "complete"
	notes         [][]byte // JSON-RPC notifications, sent first
	err           *rpcError
}

// rpcError is a JSON-RPC error a fixture answers with.
type rpcError struct {
	code int
	msg  string
	data any // error.data; nil: none
}

func invalidParams(format string, a ...any) *rpcError {
	return &rpcError{code: codeInvalidParams, msg: "Invalid params: " + fmt.Sprintf(format, a...)}
}

// write appends a's response. Notifications need a stream, so an answer
// with any goes out as SSE even when Options.Reply is "json": a JSON body
// holds one message only, and the client accepts both (it must list
// text/event-stream in Accept). They are written at once, not spread out in
// time: nothing in the protocol depends on their pacing, and the server
// answers each request in one go.
func (f *fixtures) write(out []byte, fc *fixCall, a answer) []byte {
	c := &fc.c
	if a.err != nil {
		return f.writeError(out, c, a.err)
	}
	body, err := marshal(a.result)
	if err != nil || len(body) < 2 || body[0] != '{' {
		return c.fail(out, codeInternalError, "Internal error: a fixture result did not encode")
	}
	if len(a.notes) > 0 {
		if !c.r.sse {
			c.r.sse = true
			out = append(out, ssePrefix...)
		}
		for _, n := range a.notes {
			out = append(out, n...)
			out = append(out, sseSuffix+ssePrefix...)
		}
	}
	tail := f.s.modernTail
	if a.inputRequired {
		tail = f.inputRequiredTail
	}
	out = appendHead(out, c.id, `"result":`)
	if len(body) == 2 { // {}: the tail's leading comma must go
		out = append(out, '{')
		out = append(out, tail[1:]...)
	} else {
		out = append(out, body[:len(body)-1]...)
		out = append(out, tail...)
	}
	return append(out, '}')
}

func (f *fixtures) writeError(out []byte, c *call, e *rpcError) []byte {
	if e.data == nil {
		return c.fail(out, e.code, e.msg)
	}
	data, err := marshal(e.data)
	if err != nil {
		return c.fail(out, codeInternalError, "Internal error: error data did not encode")
	}
	c.r.status = httpStatus(e.code, c.modern)
	return appendErrorData(out, c.id, e.code, e.msg, data)
}

// fixCall is one fixture request being answered: its params decoded whole.
type fixCall struct {
	ctx *fasthttp.RequestCtx
	c   call  // its r is &rep
	rep reply // what the answer needs of the HTTP reply
	req fixParams
}

// newFixCall copies what it keeps of in: escape analysis does not tell a
// struct's fields apart, so if in.id itself went into the heap-allocated
// fixCall, the benchmark path's call (whose id it is) and with it the
// reply it points to would be moved to the heap on every request.
func newFixCall(ctx *fasthttp.RequestCtx, in fixIn) *fixCall {
	fc := &fixCall{ctx: ctx, rep: reply{status: 200, sse: in.sse}}
	fc.c = call{id: bytes.Clone(in.id), modern: true, r: &fc.rep, raw: bytes.Clone(in.raw)}
	return fc
}

// fixParams are the params the fixtures read, of any of their methods.
type fixParams struct {
	Name           string          `json:"name"`
	URI            string          `json:"uri"`
	Arguments      json.RawMessage `json:"arguments"`
	InputResponses json.RawMessage `json:"inputResponses"`
	RequestState   *string         `json:"requestState"`
	Ref            *completionRef  `json:"ref"`
	Argument       *completionArg  `json:"argument"`
	Meta           fixMeta         `json:"_meta"`
}

// fixMeta is the request _meta the fixtures read (the server checked the
// protocol version and the capabilities' presence already).
type fixMeta struct {
	ProgressToken json.RawMessage            `json:"progressToken"`
	LogLevel      *string                    `json:"io.modelcontextprotocol/logLevel"`
	Capabilities  map[string]json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
}

// decode reads a fixture request's params.
func (fc *fixCall) decode() *rpcError {
	if !jsonscan.IsNull(fc.c.raw) {
		if err := json.Unmarshal(fc.c.raw, &fc.req); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				return invalidParams("%s has the wrong type", te.Field)
			}
			return invalidParams("%v", err)
		}
	}
	if a := fc.req.Arguments; len(a) > 0 && a[0] != '{' && !jsonscan.IsNull(a) {
		return invalidParams("arguments must be an object")
	}
	if lv := fc.req.Meta.LogLevel; lv != nil && logLevelRank(*lv) < 0 {
		return invalidParams(`_meta["io.modelcontextprotocol/logLevel"] %q is not a logging level`, *lv)
	}
	return nil
}

// hasCapability reports whether the client declared capability name in this
// request's _meta (capabilities are per request in 2026-07-28, never
// inferred from earlier ones).
func (fc *fixCall) hasCapability(name string) bool {
	v, ok := fc.req.Meta.Capabilities[name]
	return ok && !jsonscan.IsNull(v)
}

// requireCapabilities returns a MissingRequiredClientCapability error naming
// those of names the client did not declare, or nil.
func (fc *fixCall) requireCapabilities(names ...string) *rpcError {
	missing := map[string]struct{}{}
	for _, n := range names {
		if !fc.hasCapability(n) {
			missing[n] = struct{}{}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &rpcError{
		code: codeMissingCapability,
		msg:  "Missing required client capability",
		data: map[string]any{"requiredCapabilities": missing},
	}
}
