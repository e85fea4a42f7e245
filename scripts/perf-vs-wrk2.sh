#!/usr/bin/env bash
# mcpbench's open-loop generator against wrk2's (giltene/wrk2), side by side
# in one run: for each target rate, wrk2 -t1 -R RATE and mcpbench load --rate
# RATE, 16 connections, the server pinned to CPU 1 and each generator to CPU
# 0, one after the other. Per rate and generator: the rate achieved, p50 and
# p99 (wrk2's corrected latency; mcpbench's from the intended start), the
# generator's CPU per request over the whole process (user + system, from
# the shell's `times`, start-up included) and in the steady state (from 2 s
# in to 1 s before the end, /proc/PID/stat), and for mcpbench the calls left
# queued or in flight at the end (a
# growing queue means the generator did not keep up). First against
# `mcpbench serve http`, then against the fast MCP server (wrk2 POSTs the
# 2026-07-28 tools/call with a Lua script; mcpbench load --mcp).
#
#   WRK2=/path/to/wrk [MODES="loop:0 loop:1ms workers"] scripts/perf-vs-wrk2.sh [RATES] [DURATION_S] [CONNECTIONS]
#
# wrk2 is not a Debian package. Build it from source:
#   git clone https://github.com/giltene/wrk2 && make -C wrk2   # needs libssl-dev, zlib1g-dev
# then WRK2=$PWD/wrk2/wrk. HTTP_ONLY=1 stops after serve http.
set -euo pipefail
cd "$(dirname "$0")/.."
rates=${1:-5000 20000 40000 60000}
# Each mcpbench row: ENGINE[:BATCH], the event loop with no batching window
# (every request leaves when due), with wrk2's 1 ms timer granularity, and
# the first wave's workers.
modes=${MODES:-loop:0 loop:1ms workers}
dur=${2:-10}
conns=${3:-16}
bin=./bin/mcpbench
if [ -z "${WRK2:-}" ] || [ ! -x "$WRK2" ]; then
	cat >&2 <<'EOF'
perf-vs-wrk2: set WRK2 to a wrk2 binary. wrk2 is not a Debian package; build it:
  git clone https://github.com/giltene/wrk2 && make -C wrk2    # needs gcc, libssl-dev, zlib1g-dev
  make perf-wrk2 WRK2=$PWD/wrk2/wrk
EOF
	exit 2
fi

tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# serve KIND ARGS…: start a server on CPU 1; sets $url.
serve() {
	[ -n "$srv" ] && { kill "$srv"; wait "$srv" 2>/dev/null || true; }
	"$bin" serve "$@" --cpus 1 >"$tmp/serve.out" 2>"$tmp/serve.err" &
	srv=$!
	for _ in $(seq 50); do grep -q '^listening ' "$tmp/serve.out" && break; sleep 0.1; done
	url=$(sed -n 's/^listening //p' "$tmp/serve.out")
	[ -n "$url" ] || { echo "server did not start: $(cat "$tmp/serve.err")" >&2; exit 1; }
}

# cpu_of OUTPUT: the user + system seconds on the last line that `times`
# printed (the children's), e.g. "0m1.234s 0m0.567s".
cpu_of() {
	tail -1 <<<"$1" | awk '{u=$1; s=$2; gsub(/s/,"",u); gsub(/s/,"",s); split(u,a,"m"); split(s,b,"m"); print a[1]*60+a[2]+b[1]*60+b[2]}'
}

# steady PID RATE: runs while PID runs; prints the process's CPU per
# request between 2 s in and 1 s before the end (user + system from
# /proc/PID/stat, 10 ms ticks), counting RATE requests a second: the
# steady state, without either generator's start-up and shutdown.
steady() {
	local pid=$1 rate=$2 t0 t1 c0 c1
	sleep 2
	c0=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || echo 0); t0=$(date +%s.%N)
	sleep $((dur - 3))
	c1=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || echo 0); t1=$(date +%s.%N)
	python3 -c "print('%.1f' % (($c1 - $c0) / 100 / (($t1 - $t0) * $rate) * 1e6))"
}

# wrk2 latency values (e.g. 1.23ms, 850.00us, 1.02s) in µs.
to_us() {
	awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1e6} else print v}' <<<"$1"
}

# one RATE [LUA] [MCPBENCH ARGS…]: table rows at RATE, wrk2's then one per
# mcpbench engine and batching window in $modes.
one() {
	local rate=$1 lua=$2
	shift 2
	local lua_args=()
	[ -n "$lua" ] && lua_args=(-s "$lua")
	local out w_steady m_steady
	out=$( (taskset -c 0 "$WRK2" -t1 -c"$conns" -d"${dur}s" -R"$rate" --latency "${lua_args[@]}" "$url" >"$tmp/wrk2.out" 2>&1 &
		steady $! "$rate" >"$tmp/steady"; wait; cat "$tmp/wrk2.out"; times) 2>&1)
	w_steady=$(cat "$tmp/steady")
	local w_rps w_p50 w_p99 w_reqs w_cpu w_bad
	w_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	w_reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	w_p50=$(to_us "$(awk '/^ *50\.000%/ {print $2; exit}' <<<"$out")")
	w_p99=$(to_us "$(awk '/^ *99\.000%/ {print $2; exit}' <<<"$out")")
	w_cpu=$(cpu_of "$out")
	w_bad=$(awk '/Non-2xx or 3xx responses:/ {n=$NF} /Socket errors:/ {n+=0} END {print n+0}' <<<"$out")
	python3 - "$rate" "$w_rps" "$w_p50" "$w_p99" "$w_cpu" "$w_reqs" "$w_bad" "$w_steady" <<'PY'
import sys
rate, w_rps, w_p50, w_p99, w_cpu, w_reqs, w_bad, w_steady = sys.argv[1:]
print("| %s | wrk2 -t1 | %s | %.0f / %.0f µs | %.1f µs | | %s µs | | | %s |" % (f"{int(rate):,}", f"{float(w_rps):,.0f}", float(w_p50), float(w_p99),
    float(w_cpu) / float(w_reqs) * 1e6 if float(w_reqs or 0) else float("nan"), w_steady, w_bad))
PY
	local mode engine batch m_cpu
	for mode in $modes; do
		engine=${mode%%:*}
		batch=${mode#*:}
		[ "$batch" = "$mode" ] && batch=0
		out=$( ("$bin" load "$@" --rate "$rate" -c "$conns" --duration "${dur}s" --warmup 0s --cpus 0 --format json --no-save --progress off \
			--engine "$engine" --batch "$batch" >"$tmp/mb.json" &
			steady $! "$rate" >"$tmp/steady"; wait; times) 2>&1)
		m_cpu=$(cpu_of "$out")
		m_steady=$(cat "$tmp/steady")
		python3 - "$tmp/mb.json" "$rate" "$w_cpu" "$w_reqs" "$m_cpu" "$mode" "$w_steady" "$m_steady" <<'PY'
import json, sys
f, rate, w_cpu, w_reqs, m_cpu, mode, w_steady, m_steady = sys.argv[1:]
r = json.load(open(f))["runs"][0]
a = r["accounting"]
calls = a["ok"] + a["errors"]
m_cpu_call = float(m_cpu) / calls * 1e6 if calls else float("nan")
w_cpu_call = float(w_cpu) / float(w_reqs) * 1e6 if float(w_reqs or 0) else float("nan")
engine, _, batch = mode.partition(":")
name = "mcpbench " + engine + (", batch " + batch if engine == "loop" and batch not in ("", "0") else "")
print("| %s | %s | %s | %.0f / %.0f µs | %.1f µs | %.2f× | %s µs | %.2f× | %d + %d | %d |" % (
    f"{int(rate):,}", name, f"{r['achieved_rate']:,.0f}", r["response_time"]["p50_ns"] / 1e3, r["response_time"]["p99_ns"] / 1e3,
    m_cpu_call, m_cpu_call / w_cpu_call, m_steady, float(m_steady) / float(w_steady), a["queued_at_end"], a["in_flight_at_end"], a["errors"]))
PY
	done
}

header() {
	echo
	echo "$1"
	echo
	echo "| target/s | generator | achieved/s | p50 / p99 | CPU/req, whole process | × wrk2's | CPU/req, steady state | × wrk2's | queued + in flight at end | errors (wrk2: non-2xx) |"
	echo "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"
}

serve http
header "Against \`mcpbench serve http\` ($url), $conns connections, ${dur} s each:"
for r in $rates; do one "$r" "" "$url"; done

[ -n "${HTTP_ONLY:-}" ] && exit 0
serve mcp --impl fast
body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
cat >"$tmp/mcp.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "echo"
EOF
header "Against the fast MCP server ($url): wrk2 POSTs tools/call echo (a Lua script), mcpbench load --mcp --protocol 2026-07-28:"
for r in $rates; do one "$r" "$tmp/mcp.lua" --mcp "$url" --protocol 2026-07-28; done

echo
echo "(machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); server on CPU 1, generators on CPU 0; commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
