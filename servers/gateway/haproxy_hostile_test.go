package gateway

import (
	"testing"

	"github.com/mcpbench/mcpbench/servers/internal/hostile"
)

// TestHAProxyHostileInput: HAProxy in front of the REST upstream refuses
// hostile input cleanly and keeps serving.
func TestHAProxyHostileInput(t *testing.T) {
	hapNeed(t)
	h := hapStart(t, HAProxyConfig{Listen: hapFreeAddr(t), Upstream: startREST(t), Auth: "apikey", APIKeys: []string{"k"}, Dir: t.TempDir()})
	url := h.URL() + "/tools/echo"
	headers := map[string]string{"Content-Type": "application/json", "X-API-Key": "k"}
	hostile.Run(t, hostile.Target{URL: url, Headers: headers, GoodBody: `{"message":"hi"}`})
}
