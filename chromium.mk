# Chromium (Debian bookworm's package), the real browser that opens
# report.html in `make test` (cmd/mcpbench TestReportInChromium); included
# by the Makefile.
#
#   make tools-chromium   installs chromium with apt when it is missing
#
# Idempotent, as tools-haproxy. Without chromium the browser test skips,
# naming this target; `make browser` runs it with the browser required.

CHROMIUM ?= chromium

.PHONY: tools-chromium browser
tools-chromium:
	@if command -v $(CHROMIUM) >/dev/null 2>&1; then \
		$(CHROMIUM) --version 2>/dev/null | head -n 1; \
	else \
		command -v apt-get >/dev/null 2>&1 || { echo "tools-chromium: no apt-get here; install Chromium by hand" >&2; exit 1; }; \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null && \
		$(CHROMIUM) --version 2>/dev/null | head -n 1; \
	fi

# The report, opened in headless Chromium: no console error, nothing
# loaded from anywhere, the table and charts in the DOM, a screenshot that
# is not blank.
browser: tools-chromium
	MCPBENCH_BROWSER=$(CHROMIUM) $(GO) test -count=1 -run 'TestReportInChromium' -v ./cmd/mcpbench
