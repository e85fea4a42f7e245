# HAProxy 2.6 (Debian bookworm's package), the second API-gateway baseline
# (servers/gateway/haproxy.go); included by the Makefile.
#
#   make tools-haproxy    installs haproxy with apt when it is missing
#
# Idempotent: with haproxy on PATH it only prints the version. Without it,
# apt-get update then apt-get install (through sudo when not root). The
# HAProxy tests skip, naming this target, when haproxy is missing.

HAPROXY ?= haproxy

.PHONY: tools-haproxy
tools-haproxy:
	@if command -v $(HAPROXY) >/dev/null 2>&1; then \
		$(HAPROXY) -v | head -n 1; \
	else \
		command -v apt-get >/dev/null 2>&1 || { echo "tools-haproxy: no apt-get here; install HAProxy 2.6 by hand" >&2; exit 1; }; \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends haproxy && \
		$(HAPROXY) -v | head -n 1; \
	fi
