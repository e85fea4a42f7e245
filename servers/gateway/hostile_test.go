package gateway

import (
	"testing"

	"github.com/mcpbench/mcpbench/servers/internal/hostile"
)

func TestHostileInput(t *testing.T) {
	gw := startGateway(t, Options{Upstream: startREST(t), Auth: "apikey", APIKeys: []string{"k"}})
	url := gw + "/tools/echo"
	h := map[string]string{"Content-Type": "application/json", "X-API-Key": "k"}
	hostile.Run(t, hostile.Target{URL: url, Headers: h, GoodBody: `{"message":"hi"}`})
}
