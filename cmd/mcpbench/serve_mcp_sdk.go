package main

import "fmt"

// sdkSpec serves the go-sdk server; it lands with servers/mcp/sdk.
func sdkSpec(f *mcpFlags) (serveSpec, error) {
	return serveSpec{}, fmt.Errorf("--impl sdk is not built yet")
}
