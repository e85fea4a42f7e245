// Package sdk is the reference MCP server built on the official Go SDK
// (github.com/modelcontextprotocol/go-sdk): the four tools of package tools
// served over every transport the SDK offers, configured as the SDK
// documents and otherwise left alone, so that what is measured is the SDK.
//
//	// Stateless Streamable HTTP with JSON replies: protocol 2026-07-28.
//	h, err := sdk.Handler(sdk.Options{})
//	mux.Handle("/mcp", h)
//
//	// Or serve on a listener until ctx ends: with sessions (2025-11-25),
//	// or over the legacy HTTP+SSE transport (2024-11-05).
//	err = sdk.ServeHTTP(ctx, ln, sdk.Options{Stateful: true, Reply: "sse"})
//	err = sdk.ServeHTTP(ctx, ln, sdk.Options{Transport: "sse"})
//
//	// stdio: newline-delimited JSON.
//	err = sdk.ServeStdio(ctx, os.Stdin, os.Stdout)
//
// Tools are registered with the SDK's low-level [mcp.Server.AddTool] and their
// raw JSON schemas, so arguments reach [tools.Call] as the bytes that came
// over the wire: no reflection and no schema validation per call. Bad
// arguments come back as a tool error (a result with isError true); an
// unknown tool as the SDK's JSON-RPC error (-32602).
//
// Options.Fixtures adds what the official MCP conformance suite's server
// scenarios call for (fixtures*.go, with the data of package
// servers/mcp/fixtures): for `mcpbench serve mcp --fixtures conformance`,
// never for a benchmark.
package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/auth"

	"github.com/mcpbench/mcpbench/servers/tools"
)

// Implementation is what the server calls itself in initialize and
// server/discover results.
var Implementation = mcp.Implementation{Name: "mcpbench-sdk", Version: "1"}

// DefaultMaxBody is the request body limit when Options.MaxBody is 0.
const DefaultMaxBody = 1 << 20 // bytes

// LegacySSEVersion is the only protocol version the legacy HTTP+SSE transport
// serves: the revision that defined that transport.
const LegacySSEVersion = "2024-11-05"

// ErrBadOptions is wrapped by every error Handler and ServeHTTP return for
// options that do not make sense.
var ErrBadOptions = errors.New("sdk: bad options")

// Options configures the HTTP transports. The zero value is stateless
// Streamable HTTP with JSON replies, which serves protocol 2026-07-28.
type Options struct {
	// Transport is "http" (Streamable HTTP; "" means this) or "sse" (the
	// legacy HTTP+SSE transport of protocol 2024-11-05).
	Transport string
	// Stateful selects Streamable HTTP with sessions (initialize, then
	// Mcp-Session-Id), which negotiates 2025-11-25. The default is stateless,
	// which serves 2026-07-28 (and older versions without sessions).
	Stateful bool
	// Reply is how Streamable HTTP answers a POST: "json" ("" means this) as
	// one application/json body, or "sse" as a text/event-stream.
	Reply string
	// MaxBody limits a request body, in bytes; a larger one gets 413.
	// 0 means DefaultMaxBody.
	MaxBody int64

	// Verifier, when set, makes ServeHTTP an OAuth resource server: every
	// request to /mcp needs a valid bearer token (tools/call also the
	// tools:call scope), checked by auth.Middleware before the SDK sees the
	// request; RFC 9728 metadata is served at auth.MetadataPath(Resource).
	Verifier auth.Verifier
	// Resource is this endpoint's URL (http://ADDR/mcp); ServeHTTP fills it
	// from the listener when empty.
	Resource string
	// Issuer is the authorization server the metadata names.
	Issuer string

	// Fixtures adds, to the four tools, everything the official MCP
	// conformance suite's server scenarios call for (package fixtures:
	// tools, resources, a template, prompts, completions, logging,
	// subscriptions), and declares those capabilities; with sessions, also
	// resumable event streams (an in-memory event store, SEP-1699), which
	// the reconnection fixture needs. For conformance runs only: a
	// benchmark's server never has them.
	Fixtures bool
}

// withDefaults returns o checked, with its defaults filled in.
func (o Options) withDefaults() (Options, error) {
	switch o.Transport {
	case "":
		o.Transport = "http"
	case "http":
	case "sse":
		if o.Reply != "" {
			return o, fmt.Errorf("%w: Reply %q applies to Streamable HTTP only; the legacy sse transport always replies on its event stream", ErrBadOptions, o.Reply)
		}
		if o.Stateful {
			return o, fmt.Errorf("%w: Stateful applies to Streamable HTTP only; the legacy sse transport always has sessions", ErrBadOptions)
		}
	default:
		return o, fmt.Errorf("%w: Transport %q: want \"http\" or \"sse\"", ErrBadOptions, o.Transport)
	}
	switch o.Reply {
	case "":
		if o.Transport == "http" {
			o.Reply = "json"
		}
	case "json", "sse":
	default:
		return o, fmt.Errorf("%w: Reply %q: want \"json\" or \"sse\"", ErrBadOptions, o.Reply)
	}
	switch {
	case o.MaxBody < 0:
		return o, fmt.Errorf("%w: MaxBody %d: want 0 (meaning %d) or more bytes", ErrBadOptions, o.MaxBody, DefaultMaxBody)
	case o.MaxBody == 0:
		o.MaxBody = DefaultMaxBody
	}
	return o, nil
}

// NewServer returns an SDK server with the four tools registered. It serves
// any number of sessions, concurrently.
func NewServer() *mcp.Server {
	return newServer(nil, false)
}

// newServer returns a server for the protocol versions (nil: the SDK's),
// with the conformance fixtures if asked.
func newServer(versions []string, fixtures bool) *mcp.Server {
	impl := Implementation
	opts := &mcp.ServerOptions{
		// Only tools; the list never changes. (The default would also
		// advertise logging, and listChanged would invite a client to hold
		// a subscriptions/listen stream open.)
		Capabilities:              &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
		SupportedProtocolVersions: versions,
	}
	if fixtures {
		withFixtures(opts)
	}
	s := mcp.NewServer(&impl, opts)
	for _, t := range tools.List() {
		s.AddTool(&mcp.Tool{
			Name:        t.Name,
			Description: t.Description,
			InputSchema: t.InputSchema, // json.RawMessage: sent as is, never reflected on
		}, callTool)
	}
	if fixtures {
		addFixtures(s)
	}
	return s
}

// callTool runs one tools/call with the arguments as they came.
func callTool(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	text, err := tools.Call(ctx, req.Params.Name, req.Params.Arguments)
	if err != nil {
		var ae *tools.ArgError
		switch {
		case errors.As(err, &ae):
			return &mcp.CallToolResult{
				Content: []mcp.Content{&mcp.TextContent{Text: ae.Error()}},
				IsError: true,
			}, nil
		case errors.Is(err, tools.ErrUnknownTool):
			// What the SDK answers for a tool it does not know.
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
		}
		return nil, err
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil
}

// Handler returns the handler to mount at /mcp for opts, or an error wrapping
// ErrBadOptions. The handler is safe for concurrent use; each call of Handler
// has its own server (and, when stateful, its own sessions). It answers as
// the SDK does, with these settings:
//
//   - the SDK's DNS-rebinding protection (on by default: a request that
//     reached a loopback address with a non-loopback Host gets 403);
//   - http.CrossOriginProtection in front, as the SDK advises instead of its
//     deprecated option: a cross-origin browser POST (Origin not matching
//     Host, or Sec-Fetch-Site cross-site) gets 403; requests without those
//     headers, as from non-browser clients, pass;
//   - the SDK's body limit at opts.MaxBody (413 above it);
//   - in stateless mode, a handler's context ends when its HTTP request does
//     (StreamableHTTPOptions.PropagateRequestCancellation), so an abandoned
//     sleep stops;
//   - stateful sessions never time out (the SDK default); a client ends its
//     session with DELETE;
//   - no logging.
func Handler(opts Options) (http.Handler, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return handler(o), nil
}

// handler builds the handler for checked options.
func handler(o Options) http.Handler {
	var h http.Handler
	if o.Transport == "sse" {
		s := newServer([]string{LegacySSEVersion}, o.Fixtures)
		h = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s }, &mcp.SSEOptions{
			MaxRequestBodyBytes: o.MaxBody,
		})
	} else {
		s := newServer(nil, o.Fixtures)
		so := &mcp.StreamableHTTPOptions{
			Stateless:                    !o.Stateful,
			JSONResponse:                 o.Reply == "json",
			MaxRequestBodyBytes:          o.MaxBody,
			PropagateRequestCancellation: true,
		}
		if o.Fixtures && o.Stateful {
			// Resumable streams (SEP-1699), which test_reconnection needs.
			so.EventStore = mcp.NewMemoryEventStore(nil)
		}
		h = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, so)
	}
	return http.NewCrossOriginProtection().Handler(h)
}
