package fast

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	fixdata "github.com/mcpbench/mcpbench/servers/mcp/fixtures"
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

// toolRuns maps each fixture tool this server serves to what it runs. The
// other tools of package fixtures need what a stateless server without
// streams of its own lacks: a session to send requests of the server's in
// (test_sampling, test_elicitation*), logging/setLevel (test_tool_with_
// logging), subscriptions/listen streams to announce list changes on
// (test_trigger_*), or an event stream to close and resume
// (test_reconnection). Their scenarios are of 2025-11-25, or score those
// streams.
func toolRuns() map[string]func(*fixtures, *fixCall) answer {
	return map[string]func(*fixtures, *fixCall) answer{
		fixdata.SimpleText:          simpleText,
		fixdata.ImageContent:        imageContent,
		fixdata.AudioContent:        audioContent,
		fixdata.EmbeddedResource:    embeddedResource,
		fixdata.MultipleContent:     mixedContent,
		fixdata.ErrorHandling:       toolError,
		fixdata.WithProgress:        withProgress,
		fixdata.JSONSchema202012:    schemaTool,
		fixdata.CustomHeader:        xMcpHeader,
		fixdata.MissingCapability:   missingCapability,
		fixdata.StreamingElicit:     streamingElicitation,
		fixdata.LoggingTool:         logging,
		fixdata.InputElicitation:    mrtrElicitation,
		fixdata.InputSampling:       mrtrSampling,
		fixdata.InputListRoots:      mrtrListRoots,
		fixdata.InputRequestState:   confirmWithState,
		fixdata.InputMultipleInputs: mrtrMultipleInputs,
		fixdata.InputMultiRound:     mrtrMultiRound,
		fixdata.InputTamperedState:  confirmWithState,
		fixdata.InputCapabilities:   mrtrCapabilities,
	}
}

// fixtureTools returns the tools of package fixtures that this server runs,
// in that package's order (they are listed after the benchmark tools, so a
// scenario that calls "the first tool" keeps calling echo). A run for a
// tool the package does not have is an error.
func fixtureTools() ([]*fixtureTool, error) {
	runs := toolRuns()
	var list []*fixtureTool
	for _, t := range fixdata.Tools {
		run, ok := runs[t.Name]
		if !ok {
			continue
		}
		delete(runs, t.Name)
		ft := &fixtureTool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema, run: run}
		if err := ft.prepare(); err != nil {
			return nil, err
		}
		list = append(list, ft)
	}
	if len(runs) > 0 {
		return nil, fmt.Errorf("fast: fixture tools %v are not in package fixtures", slices.Sorted(maps.Keys(runs)))
	}
	return list, nil
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

func imageBlock() content { return content{Type: "image", Data: fixdata.PNG, MIMEType: "image/png"} }

func embedded(uri, mimeType, text string) content {
	return content{Type: "resource", Resource: &resourceContents{URI: uri, MIMEType: mimeType, Text: text}}
}

// toolResult is a CallToolResult.
type toolResult struct {
	Content []content `json:"content"`
	IsError bool      `json:"isError,omitempty"`
}

func toolText(s string) answer { return answer{result: toolResult{Content: []content{textContent(s)}}} }

func simpleText(*fixtures, *fixCall) answer { return toolText(fixdata.SimpleTextText) }

func imageContent(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{imageBlock()}}}
}

func audioContent(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{{Type: "audio", Data: fixdata.WAV, MIMEType: "audio/wav"}}}}
}

func embeddedResource(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{
		embedded(fixdata.EmbeddedResourceURI, "text/plain", fixdata.EmbeddedResourceText),
	}}}
}

func mixedContent(*fixtures, *fixCall) answer {
	return answer{result: toolResult{Content: []content{
		textContent(fixdata.MultipleContentText),
		imageBlock(),
		embedded(fixdata.MultipleResourceURI, fixdata.MultipleResourceMIME, fixdata.MultipleResourceText),
	}}}
}

// toolError fails the way a tool fails: inside the result, so the model
// sees why, not as a JSON-RPC error.
func toolError(*fixtures, *fixCall) answer {
	return answer{result: toolResult{
		Content: []content{textContent(fixdata.ErrorText)},
		IsError: true,
	}}
}

// withProgress reports its steps against the caller's progressToken.
func withProgress(_ *fixtures, fc *fixCall) answer {
	tok := fc.req.Meta.ProgressToken
	if len(tok) == 0 || string(tok) == "null" {
		return toolText(fixdata.ProgressUntrackedText)
	}
	if tok[0] != '"' && !isJSONNumber(tok) {
		return answer{err: invalidParams("_meta.progressToken must be a string or a number")}
	}
	var a answer
	for _, step := range fixdata.ProgressSteps {
		a.notes = append(a.notes, notification("notifications/progress", map[string]any{
			"progressToken": tok, "progress": step, "total": fixdata.ProgressTotal,
			"message": fmt.Sprintf(fixdata.ProgressMessageFormat, step, fixdata.ProgressTotal),
		}))
	}
	a.result = toolResult{Content: []content{textContent(fixdata.ProgressText)}}
	return a
}

// logging sends its message only if the request asked for messages of its
// level or below (2026-07-28 has no logging/setLevel: the level is per
// request, and without one the server must send none).
func logging(_ *fixtures, fc *fixCall) answer {
	a := toolText(fixdata.LoggingToolText)
	if lv := fc.req.Meta.LogLevel; lv != nil && logLevelRank("info") >= logLevelRank(*lv) {
		a.notes = append(a.notes, notification("notifications/message", map[string]any{
			"level": "info", "data": fixdata.LoggingToolMessage,
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

// arguments are the call's arguments as JSON, {} when it sent none.
func (fc *fixCall) arguments() json.RawMessage {
	if len(fc.req.Arguments) == 0 {
		return json.RawMessage("{}")
	}
	return fc.req.Arguments
}

// schemaTool returns the arguments it got; the scenario only checks that
// the tool's schema is listed as written.
func schemaTool(_ *fixtures, fc *fixCall) answer {
	return toolText(fmt.Sprintf(fixdata.JSONSchemaFormat, fc.arguments()))
}

// xMcpHeader returns the arguments it got, once checkHeaders has found its
// Mcp-Param-* headers to match them.
func xMcpHeader(_ *fixtures, fc *fixCall) answer {
	return toolText(fmt.Sprintf(fixdata.CustomHeaderFormat, fc.arguments()))
}

func missingCapability(_ *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("sampling"); err != nil {
		err.msg = fixdata.MissingCapabilityMessage
		return answer{err: err}
	}
	return toolText(fixdata.MissingCapabilityText)
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
