package sdk

// The fixtures that ask the client something: in a session by a request of
// the server's own (sampling/createMessage, elicitation/create), and, from
// 2026-07-28, by an input-required result that the client answers in its
// retry (SEP-2322). For an older client the SDK turns an input-required
// result into requests of the server's and retries the handler itself.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/mcp/fixtures"
)

// decodeArgs decodes a call's arguments into v; no arguments leave v as is.
func decodeArgs(req *mcp.CallToolRequest, v any) error {
	if len(req.Params.Arguments) == 0 {
		return nil
	}
	return json.Unmarshal(req.Params.Arguments, v)
}

func elicitParams(e fixtures.Elicit) *mcp.ElicitParams {
	return &mcp.ElicitParams{Message: e.Message, RequestedSchema: e.Schema}
}

func sampleParams(s fixtures.Sample) *mcp.CreateMessageParams {
	return &mcp.CreateMessageParams{
		Messages:  []*mcp.SamplingMessage{{Role: "user", Content: text(s.Text)}},
		MaxTokens: s.MaxTokens,
	}
}

// jsonText is v as JSON, for a result text.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sampling(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var args struct {
		Prompt string `json:"prompt"`
	}
	if err := decodeArgs(req, &args); err != nil {
		return errorResult("arguments: %v", err), nil
	}
	res, err := req.Session.CreateMessage(ctx, sampleParams(fixtures.Sample{Text: args.Prompt, MaxTokens: fixtures.SamplingMaxTokens}))
	if err != nil {
		return errorResult("sampling failed: %v", err), nil
	}
	answer := "(not text)"
	if t, ok := res.Content.(*mcp.TextContent); ok {
		answer = t.Text
	}
	return textResult("LLM response: %s", answer), nil
}

func elicitation(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var args struct {
		Message string `json:"message"`
	}
	if err := decodeArgs(req, &args); err != nil {
		return errorResult("arguments: %v", err), nil
	}
	e := fixtures.ElicitUser
	e.Message = args.Message
	res, err := req.Session.Elicit(ctx, elicitParams(e))
	if err != nil {
		return errorResult("elicitation failed: %v", err), nil
	}
	return textResult("User response: action=%s, content=%s", res.Action, jsonText(res.Content)), nil
}

// elicitForm is a tool that elicits e and returns what came back.
func elicitForm(e fixtures.Elicit) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		res, err := req.Session.Elicit(ctx, elicitParams(e))
		if err != nil {
			return errorResult("elicitation failed: %v", err), nil
		}
		return textResult("Elicitation completed: action=%s, content=%s", res.Action, jsonText(res.Content)), nil
	}
}

// accepted is the content of the elicitation answered under key, if the
// user accepted it; nil otherwise.
func accepted(responses mcp.InputResponseMap, key string) map[string]any {
	if r, ok := responses[key].(*mcp.ElicitResult); ok && r.Action == "accept" {
		return r.Content
	}
	return nil
}

// acceptedString is the string field of an accepted elicitation, or "".
func acceptedString(responses mcp.InputResponseMap, key, field string) string {
	s, _ := accepted(responses, key)[field].(string)
	return s
}

// sampled is the first text of the completion answered under key. (The SDK
// decodes every sampling answer as the with-tools result, a superset.)
func sampled(responses mcp.InputResponseMap, key string) (string, bool) {
	r, ok := responses[key].(*mcp.CreateMessageWithToolsResult)
	if !ok || r == nil {
		return "", false
	}
	for _, c := range r.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return t.Text, true
		}
	}
	return "(not text)", true
}

// rootURIs are the URIs of the roots answered under key.
func rootURIs(responses mcp.InputResponseMap, key string) ([]string, bool) {
	r, ok := responses[key].(*mcp.ListRootsResult)
	if !ok || r == nil {
		return nil, false
	}
	uris := make([]string, len(r.Roots))
	for i, root := range r.Roots {
		uris[i] = root.URI
	}
	return uris, true
}

// inputRequired is an input-required result: what to ask, and the state to
// be sent back with the answers.
func inputRequired(state string, ask mcp.InputRequestMap) *mcp.CallToolResult {
	return &mcp.CallToolResult{InputRequests: ask, RequestState: state}
}

// askName greets the caller by the name it elicits; a retry without an
// accepted name (missing, under another key, declined) is asked again.
func askName(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if name := acceptedString(req.Params.InputResponses, fixtures.AskName.Key, "name"); name != "" {
		return textResult(fixtures.GreetingFormat, name), nil
	}
	return inputRequired("", mcp.InputRequestMap{fixtures.AskName.Key: elicitParams(fixtures.AskName)}), nil
}

func askCapital(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if answer, ok := sampled(req.Params.InputResponses, fixtures.AskCapital.Key); ok {
		return textResult(fixtures.SamplingFormat, answer), nil
	}
	return inputRequired("", mcp.InputRequestMap{fixtures.AskCapital.Key: sampleParams(fixtures.AskCapital)}), nil
}

func askRoots(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if uris, ok := rootURIs(req.Params.InputResponses, fixtures.RootsKey); ok {
		return textResult(fixtures.RootsFormat, len(uris), strings.Join(uris, ", ")), nil
	}
	return inputRequired("", mcp.InputRequestMap{fixtures.RootsKey: &mcp.ListRootsParams{}}), nil
}

// askGoAhead asks for the user's go-ahead the stateless way, in an
// input-required result, so that the call's stream carries nothing but its
// result (SEP-2575); any answer under the key completes it.
func askGoAhead(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if _, ok := req.Params.InputResponses[fixtures.AskGoAhead.Key]; ok {
		return textResult("%s", fixtures.StreamingText), nil
	}
	return inputRequired("", mcp.InputRequestMap{fixtures.AskGoAhead.Key: elicitParams(fixtures.AskGoAhead)}), nil
}

// askContext is the prompt that elicits its context first.
func askContext(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	if c := accepted(req.Params.InputResponses, fixtures.AskContext.Key); c != nil {
		s, _ := c["context"].(string)
		return &mcp.GetPromptResult{Description: fixtures.InputPromptResult, Messages: []*mcp.PromptMessage{
			{Role: "user", Content: text(fmt.Sprintf(fixtures.PromptContextFormat, s))}}}, nil
	}
	return &mcp.GetPromptResult{InputRequests: mcp.InputRequestMap{fixtures.AskContext.Key: elicitParams(fixtures.AskContext)}}, nil
}

// askWhatIsDeclared asks only for the kinds of input the request's client
// capabilities cover, and completes on any answer.
func askWhatIsDeclared(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if len(req.Params.InputResponses) > 0 {
		return textResult("%s", fixtures.CapabilitiesDone), nil
	}
	ask := mcp.InputRequestMap{}
	if caps := req.ClientCapabilities(); caps != nil {
		if caps.Elicitation != nil {
			ask[fixtures.AskName.Key] = elicitParams(fixtures.AskName)
		}
		if caps.Sampling != nil {
			ask[fixtures.AskGreeting.Key] = sampleParams(fixtures.AskGreeting)
		}
		if caps.RootsV2 != nil {
			ask[fixtures.RootsKey] = &mcp.ListRootsParams{}
		}
	}
	if len(ask) == 0 {
		return textResult("%s", fixtures.CapabilitiesNone), nil
	}
	return inputRequired("", ask), nil
}

// badState is the error for a requestState that fails its integrity check
// or belongs to another tool: invalid params, as SEP-2322 suggests.
func badState(err error) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid requestState: " + err.Error()}
}
