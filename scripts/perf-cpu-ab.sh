#!/usr/bin/env bash
# CPU per request of mcpbench's open loop against wrk2's, alternated: at
# each rate, N pairs of runs (wrk2 -t1 and mcpbench load), 16
# connections, DURATION_S each, the server (`mcpbench serve http`) on CPU 1
# and each generator on CPU 0. Each run's CPU is read with `perf stat` over
# its steady state (from 2 s in, for DURATION_S - 3 s), so start-up and
# shutdown are left out, and the machine's drift touches both sides of a
# pair alike. The order alternates (odd pairs wrk2 first, even pairs
# mcpbench first): the second run of a pair measurably reads lower (~3% in
# the closed loop, cause unknown), so give an even N. Prints each pair and the median ratio per
# rate. The rate "closed" compares closed loops instead: wrk -t1 (Debian's
# wrk) against mcpbench load --closed, throughput and CPU per request.
#
#   WRK2=/path/to/wrk [BATCH=1ms] [TARGET=http|haproxy] scripts/perf-cpu-ab.sh [RATES] [N] [DURATION_S]
#
# TARGET=haproxy serves with a single HAProxy thread that answers 200
# itself (Debian's haproxy) instead of `mcpbench serve http`.
set -euo pipefail
cd "$(dirname "$0")/.."
rates=${1:-5000 20000 40000}
n=${2:-6}
dur=${3:-6}
batch=${BATCH:-1ms}
bin=./bin/mcpbench
[ -x "${WRK2:-}" ] || { echo "perf-cpu-ab: set WRK2 to a wrk2 binary (see scripts/perf-vs-wrk2.sh)" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf-cpu-ab: needs perf (apt-get install linux-perf)" >&2; exit 2; }
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
case ${TARGET:-http} in
http)
	"$bin" serve http --cpus 1 >"$tmp/serve.out" 2>"$tmp/serve.err" &
	srv=$!
	for _ in $(seq 50); do grep -q '^listening ' "$tmp/serve.out" && break; sleep 0.1; done
	url=$(sed -n 's/^listening //p' "$tmp/serve.out")
	;;
haproxy) # one HAProxy thread answering 200 itself: another server at the limit
	command -v haproxy >/dev/null || { echo "perf-cpu-ab: TARGET=haproxy needs haproxy (make tools-haproxy)" >&2; exit 2; }
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '%s\n' global '  nbthread 1' '  maxconn 1000' defaults '  mode http' '  timeout client 10s' \
		'  timeout server 10s' '  timeout connect 1s' 'frontend f' "  bind 127.0.0.1:$port" \
		'  http-request return status 200 content-type text/plain string ok' >"$tmp/haproxy.cfg"
	taskset -c 1 haproxy -f "$tmp/haproxy.cfg" -db >"$tmp/serve.err" 2>&1 &
	srv=$!
	url=http://127.0.0.1:$port/
	for _ in $(seq 50); do curl -fso /dev/null "$url" && break; sleep 0.1; done
	;;
*) echo "perf-cpu-ab: TARGET is http (mcpbench serve http) or haproxy" >&2; exit 2 ;;
esac

# median X…: the median of the numbers given (the mean of the middle two
# for an even count).
median() {
	printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'
}

# cpu_ms PID: the task-clock of PID over the steady state, in ms.
cpu_ms() {
	sleep 2
	perf stat -x, -e task-clock -p "$1" -- sleep $((dur - 3)) 2>&1 | awk -F, '/task-clock/ {print $1}'
}

echo "| rate | pair | wrk2 CPU/req | mcpbench (batch $batch) CPU/req | ratio |"
echo "|--:|--:|--:|--:|--:|"
closed() {
	command -v wrk >/dev/null || { echo "perf-cpu-ab: closed needs wrk (apt-get install wrk)" >&2; exit 2; }
	echo
	echo "| pair | wrk req/s | mcpbench req/s | ratio | wrk CPU/req | mcpbench CPU/req | ratio |"
	echo "|--:|--:|--:|--:|--:|--:|--:|"
	local i w m wr mr rr=() cr=()
	for i in $(seq "$n"); do
		if ((i % 2)); then first=wrk; else first=mcpbench; fi
		for g in $first $([ $first = wrk ] && echo mcpbench || echo wrk); do
			if [ "$g" = wrk ]; then
				taskset -c 0 wrk -t1 -c16 -d"${dur}s" "$url" >"$tmp/wrk.out" 2>&1 &
				pid=$!; w=$(cpu_ms $pid); wait $pid
				wr=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
			else
				"$bin" load "$url" --closed -c 16 -d "${dur}s" --warmup 0s --cpus 0 --format json --no-save --progress off >"$tmp/mb.json" 2>/dev/null &
				pid=$!; m=$(cpu_ms $pid); wait $pid
				mr=$(python3 -c "import json; print(json.load(open('$tmp/mb.json'))['runs'][0]['achieved_rate'])")
			fi
		done
		read -r a b < <(python3 -c "s=$dur-3; print('%.3f %.3f' % ($mr / $wr, ($m / $mr) / ($w / $wr)))")
		rr+=("$a"); cr+=("$b")
		python3 -c "s=$dur-3; print('| %d (%s first) | %.0f | %.0f | %.2f× | %.2f µs | %.2f µs | %.2f× |' % ($i, '$first', $wr, $mr, $a, $w/1e3/(s*$wr)*1e6, $m/1e3/(s*$mr)*1e6, $b))"
	done
	echo "| median | | | $(median "${rr[@]}")× | | | $(median "${cr[@]}")× |"
}

for rate in $rates; do
	if [ "$rate" = closed ]; then
		closed
		continue
	fi
	ratios=()
	for i in $(seq "$n"); do
		if ((i % 2)); then first=wrk2; else first=mcpbench; fi
		for g in $first $([ $first = wrk2 ] && echo mcpbench || echo wrk2); do
			if [ "$g" = wrk2 ]; then
				taskset -c 0 "$WRK2" -t1 -c16 -d"${dur}s" -R"$rate" "$url" >/dev/null 2>&1 &
				pid=$!; w=$(cpu_ms $pid); wait $pid
			else
				"$bin" load "$url" --rate "$rate" -c 16 -d "${dur}s" --warmup 0s --cpus 0 --batch "$batch" --no-save --progress off >/dev/null 2>&1 &
				pid=$!; m=$(cpu_ms $pid); wait $pid
			fi
		done
		r=$(python3 -c "print('%.3f' % ($m / $w))")
		ratios+=("$r")
		python3 -c "s=$dur-3; print('| %d | %d (%s first) | %.2f µs | %.2f µs | %.2f× |' % ($rate, $i, '$first', $w/1e3/(s*$rate)*1e6, $m/1e3/(s*$rate)*1e6, $r))"
	done
	echo "| $rate | median | | | $(median "${ratios[@]}")× |"
done
echo
echo "(machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
