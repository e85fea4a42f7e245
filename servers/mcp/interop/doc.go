// Package interop holds mcpbench's tests against the MCP peers users have:
// the TypeScript reference server, the TypeScript SDK's client, the MCP
// Inspector's CLI, the go-sdk's client, and the conformance suite's
// authorization-server scenarios. `make interop` installs the npm peers
// (pinned by package-lock.json) under .tools/interop and runs them; a
// plain `go test ./...` skips them. README.md lists the versions.
package interop
