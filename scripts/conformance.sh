#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance,
# installed by `make tools-conformance`) against one MCP server and compares
# the outcome with an expected-failures file.
#
# Usage: scripts/conformance.sh [-r REVISION] NAME EXPECTED_FILE -- CMD ARGS...
#
#   NAME           label for the summary (e.g. sdk-json)
#   EXPECTED_FILE  what may fail, one entry a line with its reason:
#                    SCENARIO            # reason   (any of its checks may fail)
#                    SCENARIO/CHECK-ID   # reason   (only that check may fail)
#                  blank lines and lines starting with # are ignored; an entry
#                  without a reason is an error. Judged by
#                  servers/mcp/conformance/judge.mjs.
#   CMD ARGS...    the server. Its stdout must carry a line `listening URL`
#                  (mcpbench serve prints it first). A literal {PORT} in any
#                  argument is replaced by a free loopback port first, for
#                  servers that take a fixed address.
#   -r REVISION    spec revision whose frozen requirement set to run
#                  (`conformance list --requirements X`); default 2026-07-28,
#                  or $CONFORMANCE_REQUIREMENTS.
#
# The server runs in its own process group and gets SIGTERM (then SIGKILL after
# 5 s) when the script ends, however it ends. Before the server starts, the
# suite lists the scenarios of the requirement set (`list --requirements
# REVISION`); every server scenario of that list, scored or not, must run. The
# suite's own pass/fail is not used: every scenario it ran (scored or not,
# which includes extensions and pending ones) is judged, a scenario failing
# when any of its checks has status FAILURE. Its exit code must be explained:
# 0, or 1 when a required scenario failed (whether listed is judged as above).
#
# Exit 0 when every failure is listed and every listed entry failed. Exit 1 on
# an unexpected failure, on a listed entry that passed (stale: remove it, so
# the list stays honest; CONFORMANCE_STALE=warn only warns), on a listed entry
# that did not run (typo, or not in the requirement set), on a scenario of the
# suite's list that did not run (listed as an expected failure or not), on any
# other exit of the suite (a crash, a usage error: its exit code and the tail
# of its output are shown), when the server died during the run, or when the
# server or the suite could not run. Results (the suite's scenario list,
# checks.json per scenario, the suite's log, the server's output) stay in
# $CONFORMANCE_OUT/NAME, or in a temp dir that a clean run removes.
#
# Environment: CONFORMANCE_NODE (node >= 22), CONFORMANCE_CLI (the suite's
# dist/index.js), CONFORMANCE_REQUIREMENTS, CONFORMANCE_SCENARIO_TIMEOUT_MS
# (per scenario, default 15000), CONFORMANCE_RUN_TIMEOUT (whole suite, s,
# default 110), CONFORMANCE_STARTUP_TIMEOUT (s, default 15), CONFORMANCE_OUT,
# CONFORMANCE_STALE=warn.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node=${CONFORMANCE_NODE:-$root/.tools/node22/node_modules/.bin/node}
cli=${CONFORMANCE_CLI:-$root/.tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js}
judge=$root/servers/mcp/conformance/judge.mjs
requirements=${CONFORMANCE_REQUIREMENTS:-2026-07-28}
scenario_timeout_ms=${CONFORMANCE_SCENARIO_TIMEOUT_MS:-15000}
run_timeout=${CONFORMANCE_RUN_TIMEOUT:-110}
startup_timeout=${CONFORMANCE_STARTUP_TIMEOUT:-15}
stale_mode=${CONFORMANCE_STALE:-fail}

usage() {
	echo "usage: scripts/conformance.sh [-r REVISION] NAME EXPECTED_FILE -- CMD ARGS..." >&2
	exit 2
}
die() {
	echo "conformance: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	-r | --requirements)
		[ $# -ge 2 ] || usage
		requirements=$2
		shift 2
		;;
	-h | --help) usage ;;
	*) break ;;
	esac
done
[ $# -ge 4 ] && [ "$3" = "--" ] || usage
name=$1
expected_file=$2
shift 3

[ -f "$expected_file" ] || die "$name: no expected-failures file $expected_file"
[ -x "$node" ] || die "no node at $node: run 'make tools-node' (or set CONFORMANCE_NODE)"
[ -f "$cli" ] || die "no conformance suite at $cli: run 'make tools-conformance' (or set CONFORMANCE_CLI)"

# --- expected failures (checked before anything starts) --------------------------
"$node" "$judge" "$expected_file" || exit 1

# --- work dir and cleanup ------------------------------------------------------
if [ -n "${CONFORMANCE_OUT:-}" ]; then
	work=$CONFORMANCE_OUT/$name
	rm -rf "$work"
	mkdir -p "$work" || die "cannot create $work"
	keep=1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/conformance-$name.XXXXXX") || die "mktemp failed"
	keep=0
fi
server_pid=
suite_pid=

stop_server() {
	[ -n "$server_pid" ] || return 0
	local pid=$server_pid
	server_pid=
	# The server leads its own process group (setsid): signal the whole group,
	# so wrappers (sh -c, go run) take their children with them.
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	local i
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "conformance: $name: server ignored SIGTERM for 5 s; SIGKILL" >&2
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	server_status=$?
	# Anything left in the group (a child that ignored TERM) goes too.
	kill -KILL -- "-$pid" 2>/dev/null
	return 0
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$suite_pid" ] || kill -TERM "$suite_pid" 2>/dev/null
	stop_server
	if [ "$rc" -eq 0 ] && [ "$keep" -eq 0 ]; then
		rm -rf "$work"
	elif [ "$rc" -ne 0 ]; then
		echo "conformance: $name: results kept in $work" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the scenarios the run must cover --------------------------------------------
"$node" "$cli" list --requirements "$requirements" >"$work/list.txt" 2>&1 || {
	st=$?
	tail -n 20 "$work/list.txt" >&2
	die "$name: the suite cannot list the scenarios of requirements $requirements (exit $st)"
}

# --- start the server ----------------------------------------------------------
cmd=("$@")
case "${cmd[*]}" in *'{PORT}'*)
	port=$("$node" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})') ||
		die "$name: cannot pick a free port"
	cmd=("${cmd[@]//\{PORT\}/$port}")
	;;
esac

# Created here: the background job opens them only when it gets to run, and
# the wait below reads server.stdout at once.
: >"$work/server.stdout"
: >"$work/server.stderr"
setsid "${cmd[@]}" >>"$work/server.stdout" 2>>"$work/server.stderr" </dev/null &
server_pid=$!
server_status=

url=
deadline=$((SECONDS + startup_timeout))
while [ -z "$url" ]; do
	url=$(sed -n 's/^.*listening \(https\{0,1\}:\/\/[^[:space:]]*\).*$/\1/p' "$work/server.stdout" | head -n 1)
	[ -n "$url" ] && break
	if ! kill -0 "$server_pid" 2>/dev/null; then
		wait "$server_pid"
		st=$?
		server_pid=
		echo "conformance: $name: server exited ($st) before printing 'listening URL': ${cmd[*]}" >&2
		tail -n 20 "$work/server.stderr" "$work/server.stdout" >&2
		exit 1
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "conformance: $name: no 'listening URL' line on stdout within ${startup_timeout}s: ${cmd[*]}" >&2
		tail -n 20 "$work/server.stderr" "$work/server.stdout" >&2
		exit 1
	fi
	sleep 0.05
done

# Wait until the port takes connections (a wrapper may announce it early).
hostport=${url#*://}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
host=${host#[}
host=${host%]}
until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
	kill -0 "$server_pid" 2>/dev/null || die "$name: server exited before taking connections at $url"
	[ "$SECONDS" -lt "$deadline" ] || die "$name: nothing accepts connections at $url within ${startup_timeout}s"
	sleep 0.05
done

# --- run the suite -------------------------------------------------------------
version=$("$node" "$cli" --version 2>/dev/null)
echo "== conformance $name: suite ${version:-?}, requirements $requirements, $url"
start=$SECONDS
(cd "$work" && exec timeout "$run_timeout" "$node" "$cli" server \
	--url "$url" --requirements "$requirements" \
	--timeout "$scenario_timeout_ms" -o "$work/results") >"$work/suite.log" 2>&1 &
suite_pid=$!
wait "$suite_pid"
suite_rc=$?
suite_pid=
elapsed=$((SECONDS - start))
if [ "$suite_rc" -eq 124 ]; then
	tail -n 30 "$work/suite.log" >&2
	die "$name: suite did not finish within ${run_timeout}s"
fi

server_alive=1
kill -0 "$server_pid" 2>/dev/null || server_alive=0
stop_server

# --- judge -----------------------------------------------------------------------
report=$("$node" "$judge" "$expected_file" "$work" "$suite_rc") || die "$name: cannot judge the results in $work"
counts=$(printf '%s\n' "$report" | sed -n 's/^COUNTS //p')
printf '%s\n' "$report" | grep -v "^COUNTS " || true
read -r total passed xfail unexpected stale missing unrun badexit <<<"$counts"
if [ "${total:-0}" -eq 0 ]; then
	tail -n 30 "$work/suite.log" >&2
	die "$name: the suite ran no scenario (exit $suite_rc)"
fi

failed=$((unexpected + missing + unrun + badexit))
if [ "$stale" -gt 0 ]; then
	if [ "$stale_mode" = warn ]; then
		echo "  WARNING: $stale listed failure(s) passed (CONFORMANCE_STALE=warn): update $expected_file"
	else
		failed=$((failed + stale))
	fi
fi
if [ "$server_alive" -eq 0 ]; then
	echo "  SERVER DIED during the suite (exit ${server_status:-?}); its stderr:"
	tail -n 20 "$work/server.stderr" | sed 's/^/    /'
	failed=$((failed + 1))
fi

echo "== conformance $name: $total scenarios in ${elapsed}s, suite exit $suite_rc: $passed passed, $xfail failed as expected, $unexpected failed unexpectedly, $stale listed but passed, $missing listed but not run, $unrun of the suite's list not run"
[ "$failed" -eq 0 ] || echo "  every failing check, as expected-failures entries: $work/draft.expected"
# The plain closing line: scenarios failing only as expected count as skipped.
echo "$name: $passed passed, $failed failed, $xfail skipped"
[ "$failed" -eq 0 ]
