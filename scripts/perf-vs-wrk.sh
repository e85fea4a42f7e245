#!/usr/bin/env bash
# mcpbench's generator against wrk's, on the same minimal HTTP server:
# closed-loop throughput, p50, and generator CPU per request; then the
# generator's RSS during an open-loop run. Server on CPU 1, generators on
# CPU 0. Prints a markdown table for docs/PERFORMANCE.md.
#
#   scripts/perf-vs-wrk.sh [CONNECTIONS] [DURATION_S]
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-16}
dur=${2:-10}
bin=./bin/mcpbench
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d)
cleanup() { [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$bin" serve http --cpus 1 >"$tmp/serve.out" &
srv=$!
for _ in $(seq 50); do grep -q '^listening ' "$tmp/serve.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening //p' "$tmp/serve.out")
[ -n "$url" ] || { echo "server did not start" >&2; exit 1; }

cpu_of() { # utime+stime of pid $1 in seconds (USER_HZ=100)
	awk '{print ($14+$15)/100}' "/proc/$1/stat"
}

# wrk: one thread, pinned to CPU 0. CPU from its /proc entry just before exit
# is racy, so time it with /usr/bin/time-free accounting: run under bash's
# `times` in a subshell.
wrk_out=$( (taskset -c 0 wrk -t1 -c"$conns" -d"${dur}s" --latency "$url" ; times) 2>&1 )
wrk_rps=$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')
wrk_p50=$(echo "$wrk_out" | awk '/^ +50%/ {print $2}')
# `times` prints the children's user and system time on its second line.
wrk_cpu=$(echo "$wrk_out" | tail -1 | awk '{u=$1; s=$2; gsub(/m/," ",u); gsub(/s/,"",u); gsub(/m/," ",s); gsub(/s/,"",s); split(u,a," "); split(s,b," "); print a[1]*60+a[2]+b[1]*60+b[2]}')
wrk_reqs=$(echo "$wrk_out" | awk '/requests in/ {print $1}')

mb_json="$tmp/mb.json"
declare -A mb_rps mb_p50 mb_cpu
for engine in loop workers; do
	"$bin" load "$url" --closed -c "$conns" --duration "${dur}s" --warmup 0s --cpus 0 --format json --no-save --progress off --engine "$engine" >"$mb_json"
	mb_rps[$engine]=$(python3 -c "import json;r=json.load(open('$mb_json'))['runs'][0];print(round(r['achieved_rate']))")
	mb_p50[$engine]=$(python3 -c "import json;r=json.load(open('$mb_json'))['runs'][0];print('%.1fus'%(r['response_time']['p50_ns']/1e3))")
	mb_cpu[$engine]=$(python3 -c "import json;r=json.load(open('$mb_json'))['runs'][0];print('%.2f'%(r['generator_cpu_per_call_ns']/1e3))")
done

wrk_cpu_call=$(python3 -c "print('%.2f'%($wrk_cpu/$wrk_reqs*1e6))")

# RSS at 20,000 req/s for 60 s, open loop.
"$bin" load "$url" --rate 20000 --duration 60s --warmup 1s -c "$conns" --cpus 0 --format json --no-save --progress off >"$tmp/rss.json" &
ld=$!
peak=0
while kill -0 "$ld" 2>/dev/null; do
	r=$(awk '/VmRSS/ {print $2}' "/proc/$ld/status" 2>/dev/null || echo 0)
	[ "${r:-0}" -gt "$peak" ] && peak=$r
	sleep 1
done
wait "$ld"
rss_rate=$(python3 -c "import json;r=json.load(open('$tmp/rss.json'))['runs'][0];print(round(r['achieved_rate']))")

echo "| generator | connections | throughput (req/s) | p50 | generator CPU per request |"
echo "|---|---|---|---|---|"
echo "| wrk 1 thread | $conns | $wrk_rps | $wrk_p50 | ${wrk_cpu_call} µs |"
for engine in loop workers; do
	echo "| mcpbench --closed --engine $engine | $conns | ${mb_rps[$engine]} | ${mb_p50[$engine]} | ${mb_cpu[$engine]} µs |"
done
echo
echo "mcpbench open loop at 20,000 req/s for 60 s: achieved $rss_rate req/s, peak RSS $((peak / 1024)) MB"
echo "(machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); server on CPU 1, generator on CPU 0)"
