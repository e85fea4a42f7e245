package fast

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// fixtureTool is one of the suite's test tools. The exported fields are its
// tools/list entry.
type fixtureTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema"`

	run     func(*fixtures, *fixCall) answer
	headers []headerParam // its parameters mirrored into Mcp-Param-* headers (SEP-2243)
}

// noArgs is the input schema of a tool that takes no arguments.
var noArgs = json.RawMessage(`{"type":"object"}`)

// fixtureTools returns the test tools in tools/list order, after the
// benchmark tools (a scenario that calls "the first tool" keeps calling
// echo). The names and results are those the suite's scenarios ask for.
func fixtureTools() []*fixtureTool {
	return []*fixtureTool{
		{Name: "test_simple_text", Description: "Returns one text content.", InputSchema: noArgs, run: simpleText},
		{Name: "test_image_content", Description: "Returns one image content (a 1x1 red PNG).", InputSchema: noArgs, run: imageContent},
		{Name: "test_audio_content", Description: "Returns one audio content (a short silent WAV).", InputSchema: noArgs, run: audioContent},
		{Name: "test_embedded_resource", Description: "Returns one embedded text resource.", InputSchema: noArgs, run: embeddedResource},
		{Name: "test_multiple_content_types", Description: "Returns text, image and an embedded resource together.", InputSchema: noArgs, run: mixedContent},
		{Name: "test_error_handling", Description: "Always fails: a result with isError true.", InputSchema: noArgs, run: toolError},
		{Name: "test_tool_with_progress", Description: "Reports progress 0, 50 and 100 of 100 when the call carries a progressToken.", InputSchema: noArgs, run: withProgress},
		{Name: "test_logging_tool", Description: "Logs one info message, sent only when the request sets _meta io.modelcontextprotocol/logLevel.", InputSchema: noArgs, run: logging},
		{Name: "json_schema_2020_12_tool", Description: "Takes an input schema written with JSON Schema 2020-12 keywords ($schema, $defs, $anchor, allOf/anyOf, if/then/else).", InputSchema: schema202012, run: schemaTool},
		{Name: "test_x_mcp_header", Description: "Takes arguments mirrored into Mcp-Param-* headers (x-mcp-header, SEP-2243), which the server checks against the body.", InputSchema: xMcpHeaderSchema, run: xMcpHeader},
		{Name: "test_missing_capability", Description: "Needs the client's sampling capability; without it fails with MissingRequiredClientCapability (-32021).", InputSchema: noArgs, run: missingCapability},
		{Name: "test_streaming_elicitation", Description: "Asks the client for input the stateless way: an input-required result, never a request of its own on the response stream.", InputSchema: noArgs, run: streamingElicitation},
		{Name: "test_input_required_result_elicitation", Description: "Input-required result (SEP-2322): asks the user's name by elicitation, then greets.", InputSchema: noArgs, run: mrtrElicitation},
		{Name: "test_input_required_result_sampling", Description: "Input-required result (SEP-2322): asks the client's model a question by sampling, then reports the answer.", InputSchema: noArgs, run: mrtrSampling},
		{Name: "test_input_required_result_list_roots", Description: "Input-required result (SEP-2322): asks the client's roots, then lists them.", InputSchema: noArgs, run: mrtrListRoots},
		{Name: "test_input_required_result_request_state", Description: "Input-required result (SEP-2322) with a sealed requestState the retry must echo.", InputSchema: noArgs, run: mrtrRequestState},
		{Name: "test_input_required_result_multiple_inputs", Description: "Input-required result (SEP-2322) asking elicitation, sampling and roots at once.", InputSchema: noArgs, run: mrtrMultipleInputs},
		{Name: "test_input_required_result_multi_round", Description: "Input-required results (SEP-2322) over two rounds, the requestState changing between them.", InputSchema: noArgs, run: mrtrMultiRound},
		{Name: "test_input_required_result_tampered_state", Description: "Input-required result (SEP-2322) whose requestState is refused (-32602) if altered.", InputSchema: noArgs, run: mrtrTamperedState},
		{Name: "test_input_required_result_capabilities", Description: "Input-required result (SEP-2322) asking only what the client's declared capabilities allow.", InputSchema: noArgs, run: mrtrCapabilities},
	}
}

// content is a content block (text, image, audio or resource).
type content struct {
	Type     string            `json:"type"`
	Text     string            `json:"text,omitempty"`
	Data     string            `json:"data,omitempty"`
	MIMEType string            `json:"mimeType,omitempty"`
	Resource *resourceContents `json:"resource,omitempty"`
}

// resourceContents is a resource's content: text or blob (base64).
type resourceContents struct {
	URI      string `json:"uri"`
	MIMEType string `json:"mimeType,omitempty"`
	Text     string `json:"text,omitempty"`
	Blob     string `json:"blob,omitempty"`
}

func textContent(s string) content { return content{Type: "text", Text: s} }

func imageBlock() content { return content{Type: "image", Data: testPNG, MIMEType: "image/png"} }

func embedded(uri, mimeType, text string) content {
	return content{Type: "resource", Resource: &resourceContents{URI: uri, MIMEType: mimeType, Text: text}}
}

// toolResult is a CallToolResult.
type toolResult struct {
	Content []content `json:"content"`
	IsError bool      `json:"isError,omitempty"`
}

func toolText(s string) answer { return answer{result: toolResult{Content: []content{textContent(s)}}} }

func simpleText(*fixtures, *fixCall) answer {
	return toolText("This is a simple text response for testing.")
}

func imageContent(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{imageBlock()}}}
}

func audioContent(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{{Type: "audio", Data: testWAV, MIMEType: "audio/wav"}}}}
}

func embeddedResource(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{
		embedded("test://embedded-resource", "text/plain", "This is an embedded resource content."),
	}}}
}

func mixedContent(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{
		textContent("Multiple content types test:"),
		imageBlock(),
		embedded("test://mixed-content-resource", "application/json", `{"test":"data","value":123}`),
	}}}
}

// toolError fails the way a tool fails: inside the result, so the model
// sees why, not as a JSON-RPC error.
func toolError(*fixtures, *fixCall) answer {
	return answer{result: toolResult{
		Content: []content{textContent("This tool intentionally returns an error for testing")},
		IsError: true,
	}}
}

// withProgress reports three steps against the caller's progressToken.
func withProgress(_ *fixtures, fc *fixCall) answer {
	tok := fc.req.Meta.ProgressToken
	if len(tok) == 0 || string(tok) == "null" {
		return toolText("done (no progressToken, so no progress was reported)")
	}
	if tok[0] != '"' && !isJSONNumber(tok) {
		return answer{err: invalidParams("_meta.progressToken must be a string or a number")}
	}
	var a answer
	for _, step := range []int{0, 50, 100} {
		a.notes = append(a.notes, notification("notifications/progress", map[string]any{
			"progressToken": tok, "progress": step, "total": 100, "message": fmt.Sprintf("%d of 100 done", step),
		}))
	}
	a.result = toolResult{Content: []content{textContent("done: progress reported 3 times")}}
	return a
}

// logging sends its message only if the request asked for messages of its
// level or below (2026-07-28 has no logging/setLevel: the level is per
// request, and without one the server must send none).
func logging(_ *fixtures, fc *fixCall) answer {
	a := toolText("test_logging_tool ran")
	if lv := fc.req.Meta.LogLevel; lv != nil && logLevelRank("info") >= logLevelRank(*lv) {
		a.notes = append(a.notes, notification("notifications/message", map[string]any{
			"level": "info", "logger": "test_logging_tool", "data": "test_logging_tool ran",
		}))
	}
	return a
}

// logLevelRank orders the syslog levels of MCP logging; -1 for an unknown
// name.
func logLevelRank(level string) int {
	for i, l := range []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"} {
		if l == level {
			return i
		}
	}
	return -1
}

// schema202012 is the input schema the json-schema-2020-12 scenario looks
// for: it must come back from tools/list with every keyword intact.
var schema202012 = json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
	`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
	`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},` +
	`"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],` +
	`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},"else":{"required":["email"]},` +
	`"additionalProperties":false}`)

func schemaTool(_ *fixtures, fc *fixCall) answer {
	args := fc.req.Arguments
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	return toolText("json_schema_2020_12_tool called with " + string(args))
}

func missingCapability(_ *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("sampling"); err != nil {
		return answer{err: err}
	}
	return toolText("the client declared sampling; nothing else to do")
}

// notification encodes a JSON-RPC notification.
func notification(method string, params any) []byte {
	b, err := marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
	if err != nil {
		panic("fast: fixture notification does not encode: " + err.Error())
	}
	return b
}

func isJSONNumber(b []byte) bool {
	var n json.Number
	return json.Unmarshal(b, &n) == nil
}

// The media of the image and audio contents, base64: made here rather than
// pasted, so that they are what they claim to be.
var (
	testPNG = makePNG()
	testWAV = makeWAV()
)

// makePNG encodes a 1x1 red PNG.
func makePNG() string {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic("fast: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// makeWAV encodes 10 ms of silence: 8 kHz, mono, 16-bit PCM.
func makeWAV() string {
	const rate, samples = 8000, 80
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*samples))
	b.WriteString("WAVEfmt ")
	w(uint32(16))       // fmt chunk size
	w(uint16(1))        // PCM
	w(uint16(1))        // channels
	w(uint32(rate))     // sample rate
	w(uint32(rate * 2)) // byte rate
	w(uint16(2))        // block align
	w(uint16(16))       // bits per sample
	b.WriteString("data")
	w(uint32(2 * samples))
	b.Write(make([]byte, 2*samples))
	return base64.StdEncoding.EncodeToString(b.Bytes())
}
