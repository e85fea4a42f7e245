package graphql

import (
	"context"
	"net"
	"testing"

	"github.com/mcpbench/mcpbench/servers/internal/hostile"
)

func TestHostileInput(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Options{}) }()
	defer func() { cancel(); <-done }()
	url := "http://" + ln.Addr().String() + "/graphql"
	h := map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
	hostile.Run(t, hostile.Target{URL: url, Headers: h, GoodBody: `{"query":"{ echo(message: \"hi\") }"}`})
}
