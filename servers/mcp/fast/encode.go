package fast

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/mcpbench/mcpbench/internal/jsonscan"
	"github.com/mcpbench/mcpbench/servers/tools"
)

// JSON-RPC and MCP error codes.
const (
	codeParseError         = -32700
	codeInvalidRequest     = -32600
	codeMethodNotFound     = -32601
	codeInvalidParams      = -32602
	codeInternalError      = -32603
	codeHeaderMismatch     = -32020 // 2026-07-28
	codeMissingCapability  = -32021 // 2026-07-28, MissingRequiredClientCapability (only the fixtures send it)
	codeUnsupportedVersion = -32022 // 2026-07-28
)

// Protocol versions.
const (
	v20260728 = "2026-07-28"
	v20251125 = "2025-11-25"
	v20250618 = "2025-06-18"
	v20250326 = "2025-03-26"
)

// supportedVersions lists the versions served, newest first, as
// server/discover and UnsupportedProtocolVersion errors report them.
var supportedVersions = []string{v20260728, v20251125, v20250618, v20250326}

// legacyVersion returns the interned name of a supported version before
// 2026-07-28, or "" if v is not one.
func legacyVersion(v []byte) string {
	switch string(v) {
	case v20251125:
		return v20251125
	case v20250618:
		return v20250618
	case v20250326:
		return v20250326
	}
	return ""
}

func isSupported(v []byte) bool { return string(v) == v20260728 || legacyVersion(v) != "" }

// httpStatus maps a JSON-RPC error code to the HTTP status that carries it.
// 2026-07-28 fixes 404 for -32601 and 400 for -32602 and its own codes;
// earlier versions answer a request that could be read with 200 and the
// error in the body. A body that is not a request at all is 400 in both.
func httpStatus(code int, modern bool) int {
	switch code {
	case codeParseError, codeInvalidRequest, codeHeaderMismatch, codeMissingCapability, codeUnsupportedVersion:
		return 400
	}
	if !modern {
		return 200
	}
	switch code {
	case codeMethodNotFound:
		return 404
	case codeInvalidParams:
		return 400
	}
	return 500
}

// appendHead appends the start of a response to id, up to the result or
// error value.
func appendHead(out, id []byte, member string) []byte {
	out = append(out, `{"jsonrpc":"2.0",`...)
	if id != nil {
		out = append(out, `"id":`...)
		out = append(out, id...)
		out = append(out, ',')
	}
	out = append(out, member...)
	return out
}

// appendResult appends a response to id whose result is the JSON object res.
func appendResult(out, id, res []byte) []byte {
	out = appendHead(out, id, `"result":`)
	out = append(out, res...)
	return append(out, '}')
}

// appendError appends an error response; a nil id is left out (MCP's
// JSONRPCErrorResponse has an optional id, for requests it could not read).
func appendError(out, id []byte, code int, msg string) []byte {
	return appendErrorData(out, id, code, msg, nil)
}

// appendErrorData is appendError with a data member (raw JSON) when data is
// not nil.
func appendErrorData(out, id []byte, code int, msg string, data []byte) []byte {
	out = appendHead(out, id, `"error":{"code":`)
	out = strconv.AppendInt(out, int64(code), 10)
	out = append(out, `,"message":`...)
	out = jsonscan.AppendQuoted(out, msg)
	if data != nil {
		out = append(out, `,"data":`...)
		out = append(out, data...)
	}
	return append(out, "}}"...)
}

// appendUnsupportedVersion appends an UnsupportedProtocolVersionError.
func appendUnsupportedVersion(out, id, requested []byte) []byte {
	data := make([]byte, 0, 128)
	data = append(data, `{"supported":`...)
	data = appendStrings(data, supportedVersions)
	data = append(data, `,"requested":`...)
	data = jsonscan.AppendQuoted(data, requested)
	data = append(data, '}')
	return appendErrorData(out, id, codeUnsupportedVersion, "Unsupported protocol version", data)
}

func appendStrings(out []byte, ss []string) []byte {
	out = append(out, '[')
	for i, s := range ss {
		if i > 0 {
			out = append(out, ',')
		}
		out = jsonscan.AppendQuoted(out, s)
	}
	return append(out, ']')
}

// appendToolResult appends a CallToolResult holding one text content, open:
// the caller closes it with s.modernTail or "}".
func appendToolResult(out []byte, text string, isError bool) []byte {
	out = append(out, `{"content":[{"type":"text","text":`...)
	out = jsonscan.AppendQuoted(out, text)
	out = append(out, "}]"...)
	if isError {
		out = append(out, `,"isError":true`...)
	}
	return out
}

// encodeFixed encodes the results that never change.
func (s *Server) encodeFixed() error {
	var list bytes.Buffer
	enc := json.NewEncoder(&list)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tools.List()); err != nil {
		return err
	}
	toolsJSON := bytes.TrimSpace(list.Bytes())

	info := `{"name":"` + ServerName + `","version":"` + ServerVersion + `"}`
	s.modernTail = []byte(`,"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":` + info + `}}`)

	s.toolsLegacy = append(append([]byte(`{"tools":`), toolsJSON...), '}')
	s.toolsModern = append(append([]byte(`{"tools":`), toolsJSON...), `,"ttlMs":0,"cacheScope":"public"`...)
	s.toolsModern = append(s.toolsModern, s.modernTail...)

	s.discover = appendStrings([]byte(`{"supportedVersions":`), supportedVersions)
	s.discover = append(s.discover, `,"capabilities":{"tools":{}},"ttlMs":0,"cacheScope":"public"`...)
	s.discover = append(s.discover, s.modernTail...)

	for _, b := range [][]byte{s.toolsLegacy, s.toolsModern, s.discover} {
		if !json.Valid(b) {
			return errBadFixed
		}
	}
	return nil
}

// appendInitializeResult appends the result of a legacy initialize.
func appendInitializeResult(out []byte, version string) []byte {
	out = append(out, `{"protocolVersion":"`...)
	out = append(out, version...)
	out = append(out, `","capabilities":{"tools":{}},"serverInfo":{"name":"`+ServerName+`","version":"`+ServerVersion+`"}}`...)
	return out
}
