package fast

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestGoSDKClient connects the official go-sdk client over loopback TCP, at
// its newest protocol and at each older one it can be told to use, with
// JSON and SSE replies: this is the interoperability proof.
func TestGoSDKClient(t *testing.T) {
	for _, reply := range []string{"json", "sse"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, ln, Options{Reply: reply}) }()
		url := "http://" + ln.Addr().String() + "/mcp"

		for _, tc := range []struct{ ask, want string }{
			{ask: "", want: "2026-07-28"}, // the SDK's default: its newest
			{ask: "2026-07-28", want: "2026-07-28"},
			{ask: "2025-11-25", want: "2025-11-25"},
			{ask: "2025-06-18", want: "2025-06-18"},
			{ask: "2025-03-26", want: "2025-03-26"},
		} {
			t.Run(reply+"/"+or(tc.ask, "default"), func(t *testing.T) {
				sdkSession(t, url, tc.ask, tc.want)
			})
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}

func sdkSession(t *testing.T, url, ask, want string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "interop-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: ask})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer cs.Close()
	init := cs.InitializeResult()
	if init.ProtocolVersion != want {
		t.Errorf("negotiated %s, want %s", init.ProtocolVersion, want)
	}
	if init.ServerInfo == nil || init.ServerInfo.Name != ServerName {
		t.Errorf("server info %+v, want %s", init.ServerInfo, ServerName)
	}
	if init.Capabilities == nil || init.Capabilities.Tools == nil {
		t.Errorf("capabilities %+v lack tools", init.Capabilities)
	}

	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	if got := strings.Join(names, ","); got != "echo,compute,payload,sleep" {
		t.Errorf("tools %s", got)
	}

	for i := range 3 { // several calls on one session
		msg := "héllo \"wörld\"\n\t<&> " + strings.Repeat("x", i*1000)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
		if err != nil {
			t.Fatalf("CallTool echo: %v", err)
		}
		if res.IsError || len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != msg {
			t.Fatalf("echo returned %+v", res)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "compute", Arguments: map[string]any{"rounds": 2}})
	if err != nil || res.IsError || len(res.Content[0].(*mcp.TextContent).Text) != 64 {
		t.Fatalf("compute: %+v, %v", res, err)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "payload", Arguments: map[string]any{"bytes": -1}})
	if err != nil || !res.IsError {
		t.Fatalf("payload -1: want a tool error result, got %+v, %v", res, err)
	}
	if _, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "nope"}); err == nil || !strings.Contains(err.Error(), "unknown tool") {
		t.Fatalf("unknown tool: want an error, got %v", err)
	}
	if want < "2026-07-28" {
		if err := cs.Ping(ctx, nil); err != nil {
			t.Errorf("Ping: %v", err)
		}
	}
	// The session still works after the errors.
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "end"}}); err != nil {
		t.Fatalf("CallTool after errors: %v", err)
	}
}
