package sdk

// The conformance fixtures (Options.Fixtures): the tools, resources, resource
// template, prompts, completions and logging that the official conformance
// suite's server scenarios call for, with the data of package fixtures,
// registered through the SDK's ordinary API so that what the suite judges
// is the SDK. Never loaded for a benchmark: without Options.Fixtures the
// server is exactly the four tools.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/mcp/fixtures"
)

// fixtureStep is the pause between the notifications of the progress and
// logging tools: the scenarios want several messages during one call.
const fixtureStep = 50 * time.Millisecond

// The fixtures' media, decoded once.
var (
	fixturePNG = mustBase64(fixtures.PNG)
	fixtureWAV = mustBase64(fixtures.WAV)
)

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic("sdk: fixture media: " + err.Error())
	}
	return b
}

// withFixtures sets what the fixtures need of the server's options: every
// capability they exercise, listChanged for tools and prompts (the trigger
// tools change the lists; subscriptions/listen streams hear of it) and
// resource subscriptions.
func withFixtures(o *mcp.ServerOptions) {
	o.Capabilities = &mcp.ServerCapabilities{
		Tools:       &mcp.ToolCapabilities{ListChanged: true},
		Prompts:     &mcp.PromptCapabilities{ListChanged: true},
		Resources:   &mcp.ResourceCapabilities{Subscribe: true, ListChanged: true},
		Completions: &mcp.CompletionCapabilities{},
		Logging:     &mcp.LoggingCapabilities{},
	}
	o.CompletionHandler = complete
	o.SubscribeHandler = func(_ context.Context, req *mcp.SubscribeRequest) error {
		return knownResource(req.Params.URI)
	}
	o.UnsubscribeHandler = func(_ context.Context, req *mcp.UnsubscribeRequest) error {
		return knownResource(req.Params.URI)
	}
}

// A fixtureServer registers the fixtures on one SDK server. The trigger
// tools register things again on it; the input-required tools seal their
// requestState with its key.
type fixtureServer struct {
	s        *mcp.Server
	sealer   *fixtures.Sealer
	handlers map[string]mcp.ToolHandler // by tool name
}

// addFixtures registers every fixture on s, whose options went through
// withFixtures.
func addFixtures(s *mcp.Server) {
	f := &fixtureServer{s: s, sealer: fixtures.NewSealer()}
	f.handlers = f.toolHandlers()
	for _, t := range fixtures.Tools {
		f.addTool(t)
	}
	f.addResources()
	f.addPrompts()
}

func (f *fixtureServer) addTool(t fixtures.Tool) {
	h, ok := f.handlers[t.Name]
	if !ok {
		panic("sdk: no handler for fixture tool " + t.Name) // caught by every test that serves fixtures
	}
	f.s.AddTool(&mcp.Tool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema}, h)
}

// toolHandlers maps every fixture tool to its handler.
func (f *fixtureServer) toolHandlers() map[string]mcp.ToolHandler {
	return map[string]mcp.ToolHandler{
		fixtures.SimpleText:          result(text(fixtures.SimpleTextText)),
		fixtures.ImageContent:        result(&mcp.ImageContent{Data: fixturePNG, MIMEType: "image/png"}),
		fixtures.AudioContent:        result(&mcp.AudioContent{Data: fixtureWAV, MIMEType: "audio/wav"}),
		fixtures.EmbeddedResource:    result(embedded(fixtures.EmbeddedResourceURI, "text/plain", fixtures.EmbeddedResourceText)),
		fixtures.MultipleContent:     multipleContent,
		fixtures.ErrorHandling:       toolError,
		fixtures.WithProgress:        withProgress,
		fixtures.WithLogging:         withLogging,
		fixtures.Sampling:            sampling,
		fixtures.Elicitation:         elicitation,
		fixtures.ElicitationDefaults: elicitForm(fixtures.ElicitDefaults),
		fixtures.ElicitationEnums:    elicitForm(fixtures.ElicitEnums),
		fixtures.JSONSchema202012:    jsonSchemaTool,
		fixtures.CustomHeader:        customHeader,
		fixtures.MissingCapability:   missingCapability,
		fixtures.StreamingElicit:     askGoAhead,
		fixtures.LoggingTool:         loggingTool,
		fixtures.TriggerToolChange:   f.triggerToolChange,
		fixtures.TriggerPromptChange: f.triggerPromptChange,
		fixtures.Reconnection:        reconnection,

		fixtures.InputElicitation:    askName,
		fixtures.InputSampling:       askCapital,
		fixtures.InputListRoots:      askRoots,
		fixtures.InputRequestState:   f.askConfirm,
		fixtures.InputTamperedState:  f.askConfirm,
		fixtures.InputMultipleInputs: f.askEverything,
		fixtures.InputMultiRound:     f.askTwoRounds,
		fixtures.InputCapabilities:   askWhatIsDeclared,
	}
}

func text(s string) *mcp.TextContent { return &mcp.TextContent{Text: s} }

func embedded(uri, mime, s string) *mcp.EmbeddedResource {
	return &mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: uri, MIMEType: mime, Text: s}}
}

// result is a handler that always returns content.
func result(content ...mcp.Content) mcp.ToolHandler {
	return func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: content}, nil
	}
}

// textResult is a result of one text.
func textResult(format string, args ...any) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{text(fmt.Sprintf(format, args...))}}
}

// errorResult is a tool error: the tool ran and failed, which the caller
// (a model) should see, not a protocol error.
func errorResult(format string, args ...any) *mcp.CallToolResult {
	res := textResult(format, args...)
	res.IsError = true
	return res
}

var multipleContent = result(
	text(fixtures.MultipleContentText),
	&mcp.ImageContent{Data: fixturePNG, MIMEType: "image/png"},
	embedded(fixtures.MultipleResourceURI, fixtures.MultipleResourceMIME, fixtures.MultipleResourceText),
)

func toolError(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return errorResult("%s", fixtures.ErrorText), nil
}

// pause waits one fixtureStep, or less if ctx ends first.
func pause(ctx context.Context) {
	t := time.NewTimer(fixtureStep)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// withProgress reports its steps to a caller that sent a progress token
// (a caller without one gets none: there is nothing to correlate them by).
func withProgress(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	token := req.Params.GetProgressToken()
	for i, p := range fixtures.ProgressSteps {
		if i > 0 {
			pause(ctx)
		}
		if token != nil {
			req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
				ProgressToken: token, Progress: p, Total: fixtures.ProgressTotal,
				Message: fmt.Sprintf(fixtures.ProgressMessageFormat, p, fixtures.ProgressTotal),
			})
		}
	}
	if token == nil {
		return textResult("%s", fixtures.ProgressUntrackedText), nil
	}
	return textResult("%s", fixtures.ProgressText), nil
}

// withLogging logs through the SDK, which sends a message only to a client
// that asked for logs at that level (logging/setLevel in a session, _meta
// logLevel on a 2026-07-28 request).
func withLogging(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	for i, m := range fixtures.LogMessages {
		if i > 0 {
			pause(ctx)
		}
		req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: m})
	}
	return textResult("%s", fixtures.LoggingText), nil
}

func loggingTool(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: fixtures.LoggingToolMessage})
	return textResult("%s", fixtures.LoggingToolText), nil
}

// jsonSchemaTool returns the arguments it got; the scenario only checks
// that the tool's schema is listed as written.
func jsonSchemaTool(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return textResult(fixtures.JSONSchemaFormat, req.Params.Arguments), nil
}

// customHeader returns the arguments it got. The SDK, not this handler,
// checks that the Mcp-Param-* headers match the arguments marked
// x-mcp-header (SEP-2243).
func customHeader(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return textResult(fixtures.CustomHeaderFormat, req.Params.Arguments), nil
}

// missingCapability needs the client's sampling capability and says so with
// the error SEP-2575 defines when the request did not declare it.
func missingCapability(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if caps := req.ClientCapabilities(); caps != nil && caps.Sampling != nil {
		return textResult("%s", fixtures.MissingCapabilityText), nil
	}
	data, err := json.Marshal(mcp.MissingRequiredClientCapabilityData{
		RequiredCapabilities: &mcp.ClientCapabilities{Sampling: &mcp.SamplingCapabilities{}},
	})
	if err != nil {
		return nil, err
	}
	return nil, &jsonrpc.Error{Code: mcp.CodeMissingRequiredClientCapabilities, Message: fixtures.MissingCapabilityMessage, Data: data}
}

// triggerToolChange registers a fixture tool again, unchanged: the SDK
// announces every registration as a list change, and the list stays what
// it was (a benchmark never sees these tools, but a conformance run should
// see the same list before and after).
func (f *fixtureServer) triggerToolChange(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	f.addTool(fixtures.Tools[0])
	return textResult("%s", fixtures.TriggeredTools), nil
}

func (f *fixtureServer) triggerPromptChange(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	f.addPrompt(fixtures.Prompts[0])
	return textResult("%s", fixtures.TriggeredPrompt), nil
}

// reconnection closes the event stream it answers on, asking the client to
// come back after 10 ms, and answers after 100 ms: the SDK delivers the
// result on the stream the client resumes (SEP-1699). On a JSON reply, and
// from 2026-07-28, there is no stream to close and it just answers.
func reconnection(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if req.Extra != nil && req.Extra.CloseSSEStream != nil {
		req.Extra.CloseSSEStream(mcp.CloseSSEStreamArgs{RetryAfter: 10 * time.Millisecond})
	}
	for range 2 {
		pause(ctx)
	}
	return textResult("%s", fixtures.ReconnectionText), nil
}
