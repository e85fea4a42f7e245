# mcpbench with the peers users have: the TypeScript reference server
# (@modelcontextprotocol/server-everything), the TypeScript SDK's client,
# the MCP Inspector's CLI, the go-sdk's client, and the conformance suite's
# authorization-server scenarios against mcpbench's authorization server.
# Included by the Makefile; see servers/mcp/interop/README.md.
#
#   make interop
#
# The npm packages are pinned, with their whole dependency tree, by
# servers/mcp/interop/package-lock.json and install under .tools/interop
# (run by the Node 22 of tools-node) when missing or when the lock changes.
# `npm install`, which follows the lock, not `npm ci`: the Inspector's vite
# names an optional dependency the registry does not have
# (napi-windows-process-start-time), which npm ci takes for a stale lock.

INTEROP_DIR     := servers/mcp/interop
INTEROP_MODULES := .tools/interop/node_modules

.PHONY: tools-interop interop

tools-interop: tools-node
	@if ! cmp -s $(INTEROP_DIR)/package-lock.json .tools/interop/.installed-lock.json || \
	    [ ! -d $(INTEROP_MODULES)/@modelcontextprotocol/server-everything ]; then \
		echo "installing the interop peers under .tools/interop"; \
		rm -rf .tools/interop && mkdir -p .tools/interop && \
		cp $(INTEROP_DIR)/package.json $(INTEROP_DIR)/package-lock.json .tools/interop/ && \
		PATH="$(CURDIR)/.tools/node22/node_modules/.bin:$$PATH" \
			npm install --prefix .tools/interop --no-audit --no-fund --loglevel=error && \
		cp $(INTEROP_DIR)/package-lock.json .tools/interop/.installed-lock.json; \
	fi

# MCPBENCH_INTEROP=1 makes a missing peer a failure, not a skip.
interop: build tools-interop tools-conformance
	MCPBENCH_INTEROP=1 MCPBENCH_BIN=$(CURDIR)/$(BIN) INTEROP_NODE=$(CURDIR)/$(CONFORMANCE_NODE) \
	INTEROP_MODULES=$(CURDIR)/$(INTEROP_MODULES) CONFORMANCE_CLI=$(CURDIR)/$(CONFORMANCE_CLI) \
		$(GO) test -count=1 -v -run 'Interop' ./$(INTEROP_DIR)
