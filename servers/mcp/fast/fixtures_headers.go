package fast

// SEP-2243 custom headers: a tool may mark parameters with "x-mcp-header":
// NAME in its input schema, and clients then send each such argument in an
// Mcp-Param-NAME header too, so that HTTP infrastructure can route on it
// without reading the body. The server must check every such header against
// the body, as it checks Mcp-Method and Mcp-Name: a header without its
// argument, an argument without its header, a value that differs, or
// malformed base64 are a HeaderMismatch (-32020, HTTP 400).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/mcpbench/mcpbench/internal/jsonscan"
	"github.com/valyala/fasthttp"
)

// headerParam is a tool parameter mirrored into a header.
type headerParam struct {
	arg    string // the argument's name
	header string // Mcp-Param-NAME
	typ    string // its schema type: string, integer or boolean
}

// prepare reads the tool's x-mcp-header annotations from its input schema,
// so that the schema tools/list shows is the one the server enforces.
func (t *fixtureTool) prepare() error {
	var schema struct {
		Properties map[string]struct {
			Type   string  `json:"type"`
			Header *string `json:"x-mcp-header"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(t.InputSchema, &schema); err != nil {
		return fmt.Errorf("fast: fixture tool %s: input schema: %w", t.Name, err)
	}
	for arg, p := range schema.Properties {
		if p.Header == nil {
			continue
		}
		switch {
		case !isToken(*p.Header):
			return fmt.Errorf("fast: fixture tool %s: x-mcp-header %q is not an HTTP token", t.Name, *p.Header)
		case p.Type != "string" && p.Type != "integer" && p.Type != "boolean":
			return fmt.Errorf("fast: fixture tool %s: x-mcp-header on %s, of type %q (SEP-2243 allows string, integer and boolean)", t.Name, arg, p.Type)
		}
		t.headers = append(t.headers, headerParam{arg: arg, header: "Mcp-Param-" + *p.Header, typ: p.Type})
	}
	sort.Slice(t.headers, func(i, j int) bool { return t.headers[i].arg < t.headers[j].arg })
	return nil
}

// isToken reports whether s is a non-empty RFC 9110 token (a header name).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0) {
			return false
		}
	}
	return s != ""
}

// checkHeaders checks the request's Mcp-Param-* headers against args (an
// object, or empty).
func (t *fixtureTool) checkHeaders(ctx *fasthttp.RequestCtx, args json.RawMessage) *rpcError {
	if len(t.headers) == 0 {
		return nil
	}
	var vals map[string]json.RawMessage
	if !jsonscan.IsNull(args) {
		if err := json.Unmarshal(args, &vals); err != nil {
			return invalidParams("arguments: %v", err)
		}
	}
	for _, h := range t.headers {
		sent := ctx.Request.Header.PeekAll(h.header)
		v, inBody := vals[h.arg]
		inBody = inBody && !jsonscan.IsNull(v)
		switch {
		case len(sent) == 0 && !inBody:
		case len(sent) > 1:
			return headerMismatch("the %s header appears more than once", h.header)
		case len(sent) == 0:
			return headerMismatch("the %s header is required: the body has argument %q", h.header, h.arg)
		case !inBody:
			return headerMismatch("the %s header is sent but the body has no argument %q", h.header, h.arg)
		case !paramMatches(sent[0], v, h.typ):
			return headerMismatch("the %s header does not match the body's argument %q", h.header, h.arg)
		}
	}
	return nil
}

func headerMismatch(format string, a ...any) *rpcError {
	return &rpcError{code: codeHeaderMismatch, msg: "Header mismatch: " + fmt.Sprintf(format, a...)}
}

// paramMatches compares a header value with the argument's JSON value. A
// value wrapped as =?base64?…?= is decoded first, strictly (padding
// required, no stray characters); anything else is taken literally.
func paramMatches(header, arg []byte, typ string) bool {
	val, ok := decodeParam(header)
	if !ok {
		return false
	}
	switch typ {
	case "string":
		s, ok := jsonscan.String(arg)
		return ok && bytes.Equal(val, s)
	case "boolean":
		return (string(arg) == "true" || string(arg) == "false") && bytes.Equal(val, arg)
	}
	// integer: equal as numbers (the client writes 42 as "42", but may
	// write 1e3 as "1000").
	var want float64
	if err := json.Unmarshal(arg, &want); err != nil {
		return false
	}
	got, err := strconv.ParseFloat(string(val), 64)
	return err == nil && got == want
}

func decodeParam(header []byte) ([]byte, bool) {
	enc, ok := bytes.CutPrefix(header, []byte("=?base64?"))
	if ok {
		enc, ok = bytes.CutSuffix(enc, []byte("?="))
	}
	if !ok {
		return header, true
	}
	dec, err := base64.StdEncoding.Strict().DecodeString(string(enc))
	return dec, err == nil
}
