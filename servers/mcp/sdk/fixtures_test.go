package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/mcp/fixtures"
	"github.com/mcpbench/mcpbench/servers/tools"
)

// fixtureModes are the transports the conformance configurations run.
var fixtureModes = []mode{
	{name: "stateless-json", opts: Options{Fixtures: true}, version: "2026-07-28"},
	{name: "stateless-sse", opts: Options{Fixtures: true, Reply: "sse"}, version: "2026-07-28"},
	{name: "stateful-json", opts: Options{Fixtures: true, Stateful: true}, version: "2025-11-25"},
	{name: "stateful-sse", opts: Options{Fixtures: true, Stateful: true, Reply: "sse"}, version: "2025-11-25"},
	{name: "legacy-sse", opts: Options{Fixtures: true, Transport: "sse"}, version: LegacySSEVersion},
}

// A fixtureClient answers what the fixtures ask: a name and a colour by
// elicitation, a completion by sampling, one root; and counts the
// notifications it gets.
type fixtureClient struct {
	mu       sync.Mutex
	progress []float64
	logs     []string
}

func (fc *fixtureClient) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			// The answers to the fields the form has.
			answers := map[string]any{"name": "Ada", "color": "green", "ok": true, "context": "tests", "username": "ada", "email": "ada@example.com"}
			var form struct {
				Properties map[string]any `json:"properties"`
			}
			b, _ := json.Marshal(req.Params.RequestedSchema)
			json.Unmarshal(b, &form)
			content := map[string]any{}
			for k := range form.Properties {
				if v, ok := answers[k]; ok {
					content[k] = v
				}
			}
			return &mcp.ElicitResult{Action: "accept", Content: content}, nil
		},
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Model: "test", Content: text("Paris")}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			fc.mu.Lock()
			defer fc.mu.Unlock()
			fc.progress = append(fc.progress, req.Params.Progress)
		},
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			fc.mu.Lock()
			defer fc.mu.Unlock()
			fc.logs = append(fc.logs, fmt.Sprint(req.Params.Data))
		},
	}
}

// connectFixtures serves m and connects a go-sdk client with fc's handlers
// and one root.
func connectFixtures(t *testing.T, m mode, fc *fixtureClient) *mcp.ClientSession {
	t.Helper()
	h, err := Handler(m.opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := mcp.NewClient(&mcp.Implementation{Name: "fixtures-test", Version: "1"}, fc.options())
	client.AddRoots(&mcp.Root{URI: "file:///tmp/root", Name: "root"})
	// Retries on: test_reconnection closes its stream for the client to resume.
	var transport mcp.Transport = &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: srv.Client()}
	if m.opts.Transport == "sse" {
		transport = &mcp.SSEClientTransport{Endpoint: srv.URL, HTTPClient: srv.Client()}
	}
	cs, err := client.Connect(context.Background(), transport, nil)
	if err != nil {
		t.Fatalf("%s: connect: %v", m.name, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// TestFixturesOnlyWhenAsked: the fixtures and their capabilities are there
// with Options.Fixtures, and nothing of them without.
func TestFixturesOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	for _, fix := range []bool{false, true} {
		t.Run(fmt.Sprint("fixtures=", fix), func(t *testing.T) {
			m := mode{name: "stateless-json", opts: Options{Fixtures: fix}}
			cs := connectFixtures(t, m, &fixtureClient{})
			caps := cs.InitializeResult().Capabilities
			if got := caps.Prompts != nil && caps.Resources != nil && caps.Completions != nil && caps.Logging != nil; got != fix {
				t.Errorf("capabilities %+v: prompts, resources, completions, logging declared %v, want %v", caps, got, fix)
			}
			list, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			var want []string
			for _, tool := range tools.List() {
				want = append(want, tool.Name)
			}
			if fix {
				for _, tool := range fixtures.Tools {
					want = append(want, tool.Name)
				}
			}
			slices.Sort(want) // the SDK lists tools by name
			if !slices.Equal(names, want) {
				t.Errorf("tools/list:\n got %v\nwant %v", names, want)
			}
		})
	}
}

// TestFixturesListed: tools with their schemas as written, resources, the
// template and prompts, in every mode.
func TestFixturesListed(t *testing.T) {
	ctx := context.Background()
	for _, m := range fixtureModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cs := connectFixtures(t, m, &fixtureClient{})
			list, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*mcp.Tool{}
			for _, tool := range list.Tools {
				byName[tool.Name] = tool
			}
			for _, want := range fixtures.Tools {
				got, ok := byName[want.Name]
				if !ok {
					t.Errorf("tools/list lacks %s", want.Name)
					continue
				}
				if b, _ := json.Marshal(got.InputSchema); !jsonEqual(b, want.InputSchema) {
					t.Errorf("%s: schema %s, want %s", want.Name, b, want.InputSchema)
				}
			}
			res, err := cs.ListResources(ctx, nil)
			if err != nil || len(res.Resources) != len(fixtures.Resources) {
				t.Errorf("resources/list: %v, %v", res, err)
			}
			tmpl, err := cs.ListResourceTemplates(ctx, nil)
			if err != nil || len(tmpl.ResourceTemplates) != 1 || tmpl.ResourceTemplates[0].URITemplate != fixtures.TemplateURI {
				t.Errorf("resources/templates/list: %v, %v", tmpl, err)
			}
			prompts, err := cs.ListPrompts(ctx, nil)
			if err != nil || len(prompts.Prompts) != len(fixtures.Prompts) {
				t.Errorf("prompts/list: %v, %v", prompts, err)
			}
		})
	}
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// contentJSON is a result's content as JSON, for comparing with what the
// suite's scenarios describe.
func contentJSON(t *testing.T, c any) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
