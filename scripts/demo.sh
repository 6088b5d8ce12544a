#!/usr/bin/env bash
# The local demo behind `make run` and `make demo`.
#
#   scripts/demo.sh run    start everything, print a guide, stay up until Ctrl-C
#   scripts/demo.sh demo   the same scenario, scripted: change the glob list with
#                          procctl and check each change in the agent's /metrics;
#                          exits 0 only if every step was observed
#
# Both start a throwaway ZooKeeper (bin/zkdev, on free loopback ports), create
# the watch list with `procctl init`, start an agent (bin/procwatch, on 9256 or
# the next free port) and a few demo processes: copies of sleep under
# distinctive names, so the globs have something to match. Whatever way the
# script ends (Ctrl-C, a failed step, a kill), everything it started is
# stopped, and it checks that nothing is left running.
#
# It expects the binaries in bin/ (`make build`) and curl (`make deps`).
set -euo pipefail

mode=${1:-}
case $mode in
run | demo) ;;
*)
	echo "usage: $0 run|demo" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$root/bin
for b in procwatch procctl zkdev; do
	[ -x "$bin/$b" ] || {
		echo "demo: $bin/$b is missing: run \`make build\`" >&2
		exit 1
	}
done
command -v curl >/dev/null || {
	echo "demo: curl is missing: run \`make deps\`" >&2
	exit 1
}

# Agents match processes host-wide, so a second demo on this host would
# count the first one's processes and see numbers it did not expect. One
# demo at a time, then; the lock goes when this shell exits, and children
# are started with fd 9 closed so that none of them can hold it longer.
exec 9>"${TMPDIR:-/tmp}/procwatch-demo-$(id -u).lock"
if ! flock -n 9; then
	echo "demo: another \`make run\` or \`make demo\` is running on this host; stop it first" >&2
	exit 1
fi

mkdir -p "$root/.demo"
work=$(mktemp -d "$root/.demo/$mode.XXXXXX")
log=$work/log
mkdir -p "$work/bin" "$log"

# Timing: bash's EPOCHREALTIME in microseconds, for "observed after" lines.
now_us() { echo "${EPOCHREALTIME/./}"; }
since() { # prints the seconds elapsed since a now_us value, to the millisecond
	local d=$(($(now_us) - $1))
	printf '%d.%03ds' $((d / 1000000)) $((d % 1000000 / 1000))
}

say() { printf '%s\n' "$*"; }
# quoted prints its arguments as a shell would need them typed: a glob such
# as demo-cache* pasted unquoted would be expanded by the reader's shell.
quoted() {
	local out="" a
	for a in "$@"; do
		case "$a" in
		*[!A-Za-z0-9_./:=@%+-]* | "") a="'${a//\'/\'\\\'\'}'" ;;
		esac
		out+="${out:+ }$a"
	done
	printf '%s' "$out"
}
# ok and fail report a step of `make demo`; fail also shows the logs' tails.
steps=0
ok() {
	steps=$((steps + 1))
	printf '  ok: %s\n' "$*"
}
fail() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	for f in "$log"/*.log; do
		[ -s "$f" ] || continue
		printf '\n--- last lines of %s\n' "$f" >&2
		tail -n 15 "$f" >&2
	done
	keep_work=1
	exit 1
}

# Every process the script starts is recorded here, for cleanup and for the
# check that nothing is left.
declare -A started=() # pid -> what
zkdev_pid= agent_pid=

# alive is true while pid runs; a zombie (exited, not yet reaped) is not.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# stop_pids sends SIGTERM to the pids given, waits up to $1 seconds for them
# to exit, then SIGKILLs any left. It polls rather than using the wait
# builtin: bash reaps its children by itself, and bash 5.2's `wait PID`,
# after a trap has interrupted `wait -n`, can block on some other child
# forever.
stop_pids() {
	local timeout=$1 pid
	shift
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	local deadline=$((SECONDS + timeout)) slow=$((SECONDS + 2)) said=
	for pid in "$@"; do
		while alive "$pid" && ((SECONDS < deadline)); do
			# Say what is slow, rather than hang silently.
			if [ -z "$said" ] && ((SECONDS >= slow)); then
				said=1
				say "demo: waiting for ${started[$pid]:-pid $pid} to stop" >&2
			fi
			sleep 0.05
		done
		if alive "$pid"; then
			say "demo: ${started[$pid]:-$pid} did not stop within ${timeout}s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			local killed=$((SECONDS + 2))
			while alive "$pid" && ((SECONDS < killed)); do sleep 0.05; done
		fi
	done
}

# demo_copies prints the pids of the live processes running one of the
# demo's copies of sleep, whoever started them.
demo_copies() {
	local exe pid
	for exe in /proc/[0-9]*/exe; do
		if [[ $(readlink "$exe" 2>/dev/null) == "$work/bin/"* ]]; then
			pid=${exe#/proc/}
			pid=${pid%/exe}
			if alive "$pid"; then echo "$pid"; fi
		fi
	done
}

keep_work=
cleaned=
cleanup() {
	local status=$?
	[ -n "$cleaned" ] && return
	cleaned=1
	trap '' INT TERM HUP # a second Ctrl-C must not cut the cleanup short
	local pid others=()
	for pid in "${!started[@]}"; do
		[ "$pid" = "$zkdev_pid" ] || others+=("$pid")
	done
	# The agent first, while ZooKeeper is still up, so it removes its
	# listener node as it would in production; ZooKeeper last.
	if [ ${#others[@]} -gt 0 ]; then stop_pids 10 "${others[@]}"; fi
	if [ -n "$zkdev_pid" ]; then stop_pids 20 "$zkdev_pid"; fi
	# The guide suggests starting more copies of sleep by hand: they are the
	# demo's too, and go with it.
	local strays
	strays=$(demo_copies)
	# shellcheck disable=SC2086 # one pid per word
	if [ -n "$strays" ]; then stop_pids 5 $strays; fi

	local left=()
	for pid in "${!started[@]}"; do
		if alive "$pid"; then left+=("$pid (${started[$pid]})"); fi
	done
	for pid in $(demo_copies); do
		left+=("$pid ($(readlink "/proc/$pid/exe" 2>/dev/null))")
	done
	if [ ${#left[@]} -gt 0 ]; then
		say "demo: still running after cleanup: ${left[*]}" >&2
		status=1
	elif [ ${#started[@]} -gt 0 ]; then
		local by_hand=
		if [ -n "$strays" ]; then by_hand=" and $(wc -w <<<"$strays") started by hand"; fi
		say "demo: stopped the ${#started[@]} processes it started$by_hand; nothing left running"
	fi
	if [ -n "$keep_work" ]; then
		say "demo: logs kept in $work" >&2
	else
		rm -rf "$work"
		rmdir "$root/.demo" 2>/dev/null || true
	fi
	exit "$status"
}
trap cleanup EXIT
# In run mode Ctrl-C is the way out, so it ends with status 0; in demo mode
# it interrupts the demo, which has then not shown everything.
# A closed terminal (SIGHUP) stops everything the same way.
if [ "$mode" = run ]; then
	trap 'say; say "demo: Ctrl-C: stopping everything"; exit 0' INT TERM HUP
else
	trap 'say; say "demo: interrupted"; exit 130' INT TERM HUP
fi

# start WHAT LOGFILE COMMAND...: runs COMMAND in the background, its output
# going to LOGFILE, or to the script's own output for "-". setpriv's
# --pdeathsig makes the kernel signal it if this shell dies without running
# its cleanup (SIGKILL), so even then nothing outlives the demo.
last_pid=
start() {
	local what=$1 out=$2
	shift 2
	# setsid: a Ctrl-C at the terminal reaches the whole foreground process
	# group; the children must not get it, or they die before the INT trap
	# runs and the demo reports them as crashed. The trap stops them.
	if [ "$out" = - ]; then
		setsid setpriv --pdeathsig TERM -- "$@" 9>&- </dev/null &
	else
		setsid setpriv --pdeathsig TERM -- "$@" >"$out" 2>&1 9>&- </dev/null &
	fi
	last_pid=$!
	started[$last_pid]=$what
}

# check_alive fails the demo as soon as the agent or ZooKeeper has died,
# rather than letting a wait time out without saying why.
check_alive() {
	if [ -n "$zkdev_pid" ] && ! alive "$zkdev_pid"; then fail "ZooKeeper (zkdev) exited"; fi
	if [ -n "$agent_pid" ] && ! alive "$agent_pid"; then fail "the agent exited"; fi
}

# wait_for WHAT SECONDS COMMAND...: runs COMMAND until it succeeds, polling
# every 50ms; fails the demo after SECONDS.
wait_for() {
	local what=$1 timeout=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@"; do
		check_alive
		((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what"
		sleep 0.05
	done
}

# port_free is true when nothing accepts connections on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- ZooKeeper -------------------------------------------------------------
say "demo: starting ZooKeeper (bin/zkdev, from Debian's zookeeper package, on a free port)"
start "ZooKeeper (zkdev)" "$log/zkdev.log" "$bin/zkdev" --addr-file "$work/zk.addr"
zkdev_pid=$last_pid
wait_for "ZooKeeper to serve" 60 test -s "$work/zk.addr"
zk=$(<"$work/zk.addr")
procctl=("$bin/procctl" --zk "$zk")
say "demo: ZooKeeper serves at $zk"

# --- the watch list --------------------------------------------------------
initial_globs=(demo-web demo-db-worker-with-a-long-name 'demo-cache*')
say "demo: procctl --zk $zk init $(quoted "${initial_globs[@]}")"
"${procctl[@]}" init "${initial_globs[@]}" | sed 's/^/  /'

# --- the agent -------------------------------------------------------------
port=
for p in 9256 $(seq 19256 19356); do
	if port_free "$p"; then
		port=$p
		break
	fi
done
[ -n "$port" ] || fail "no free port among 9256 and 19256-19356 for the agent"
[ "$port" = 9256 ] || say "demo: port 9256 is busy; the agent listens on 127.0.0.1:$port instead"
metrics_url=http://127.0.0.1:$port/metrics
say "demo: starting the agent (bin/procwatch) on 127.0.0.1:$port"
start "agent (procwatch)" "$log/agent.log" "$bin/procwatch" --zk "$zk" \
	--web.listen-address "127.0.0.1:$port" --cache-file "$work/cache.json"
agent_pid=$last_pid
wait_for "the agent's /readyz" 30 curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz"

# --- demo processes --------------------------------------------------------
# Copies of sleep, so each has its own executable name. The database worker's
# name is longer than the 15 bytes the kernel keeps as comm: the agent still
# matches it by its full name.
for name in demo-web demo-db-worker-with-a-long-name demo-batch; do
	cp "$(command -v sleep)" "$work/bin/$name"
done
start_demo() { # start_demo NAME: one more process called NAME
	start "demo process $1" /dev/null "$work/bin/$1" infinity
}
start_demo demo-web
start_demo demo-web
start_demo demo-db-worker-with-a-long-name
say "demo: started demo processes: demo-web (2), demo-db-worker-with-a-long-name (1)"

# --- reading /metrics ------------------------------------------------------
metrics= # the latest scrape
scrape() { metrics=$(curl -fsS --max-time 2 "$metrics_url"); }
# value METRIC GLOB: prints the sample of METRIC{glob="GLOB"} in $metrics.
value() {
	awk -v s="$1{glob=\"$2\"}" '$1 == s { print $2 }' <<<"$metrics"
}
# metric_is METRIC GLOB WANT: scrapes and compares METRIC{glob="GLOB"} with
# WANT.
metric_is() { scrape && [ "$(value "$1" "$2")" = "$3" ]; }
show_globs() { # the per-glob process counts of the latest scrape
	grep '^procwatch_glob_processes{' <<<"$metrics" | sed 's/^/    /'
}

wait_for "the agent to count the demo processes" 15 \
	eval 'metric_is procwatch_glob_processes demo-web 2 &&
		[ "$(value procwatch_glob_processes demo-db-worker-with-a-long-name)" = 1 ] &&
		[ "$(value procwatch_glob_processes "demo-cache*")" = 0 ]'

# add_batch_glob INDENT: procctl globs add --wait 'demo-batch*', then checks
# that the agent exports the new glob at 0 as soon as the command returns.
add_batch_glob() {
	"${procctl[@]}" globs add --wait 'demo-batch*' 2>&1 | sed "s/^/$1/"
	[ "${PIPESTATUS[0]}" = 0 ] || fail "procctl globs add --wait failed"
	metric_is procwatch_glob_processes 'demo-batch*' 0 || fail "demo-batch* is not in /metrics after --wait returned"
}

if [ "$mode" = run ]; then
	# Show once what the guide then leaves to the reader: procctl changes
	# the list, and the agent's series follow. The glob is taken out again,
	# so the guide's commands start from the list init made.
	say
	say "demo: the agent's series now:"
	scrape
	show_globs
	say "demo: procctl --zk $zk globs add --wait 'demo-batch*'"
	add_batch_glob '  '
	say "demo: the agent's series once it returned ('demo-batch*' matches nothing yet: 0):"
	show_globs
	say "demo: procctl --zk $zk globs rm 'demo-batch*'"
	"${procctl[@]}" globs rm 'demo-batch*' | sed 's/^/  /'
	wait_for "demo-batch* to leave /metrics" 10 eval 'scrape && [ -z "$(value procwatch_glob_processes "demo-batch*")" ]'
	say "demo: and the agent's series are back to the three globs of init"
	cat <<EOF

procwatch demo is running; Ctrl-C stops everything it started.

  ZooKeeper  $zk   (bin/zkdev; its data goes when it stops)
  agent      $metrics_url   (also /healthz, /readyz)
             log: $log/agent.log
  processes  demo-web (2), demo-db-worker-with-a-long-name (1): copies of sleep
  globs      $(quoted "${initial_globs[@]}")

Look at the metrics:
  curl -s $metrics_url | grep '^procwatch_glob'

Change the watch list from another terminal (every agent follows within a second):
  ./bin/procctl --zk $zk globs list
  ./bin/procctl --zk $zk globs add 'demo-batch*' 'cmdline:* infinity' '/**/bin/demo-*'
  ./bin/procctl --zk $zk globs rm demo-web
  ./bin/procctl --zk $zk globs add --wait 'demo-batch*'   # returns once every agent applied it
  ./bin/procctl --zk $zk members
  ./bin/procctl --zk $zk status
  ./bin/procctl --zk $zk groups set demo --host "$(hostname)" 'demo-cache*'
  ./bin/procctl --zk $zk globs list --host "$(hostname)"
  ./bin/procctl --zk $zk get -o json
  ./bin/procctl --zk $zk edit
  $work/bin/demo-batch 600 &        # a process for 'demo-batch*'

or with any ZooKeeper client, e.g. Debian's zkCli.sh:
  echo 'get /procwatch/payload' | /usr/share/zookeeper/bin/zkCli.sh -server $zk

Changes to the list, as they happen (procctl watch):
EOF
	start "procctl watch" - "${procctl[@]}" watch
	watch_pid=$last_pid
	# Wait for Ctrl-C (the INT trap), or for a part of the demo to die.
	while true; do
		wait -n "$zkdev_pid" "$agent_pid" "$watch_pid" || true
		check_alive
		alive "$watch_pid" || fail "procctl watch exited"
	done
fi

# --- make demo: the scripted scenario ----------------------------------------
say
say "Step 1: the agent exports one series per glob; 'demo-cache*' matches nothing and shows 0"
scrape
show_globs
ok "demo-web 2, demo-db-worker-with-a-long-name 1 (matched by its full name), demo-cache* 0"

say
say "Step 2: procctl members lists the agent"
members=$("${procctl[@]}" members)
sed 's/^/    /' <<<"$members"
awk -v pid="$agent_pid" 'NR > 1 && $3 == pid { found = 1 } END { exit !found }' <<<"$members" ||
	fail "procctl members does not list the agent (pid $agent_pid)"
ok "the agent (pid $agent_pid) is a live member"

say
say "Step 3: procctl globs add --wait 'demo-batch*' returns once the agent applied it"
t0=$(now_us)
add_batch_glob '    '
ok "procwatch_glob_processes{glob=\"demo-batch*\"} 0 at once, $(since "$t0") after the write began"

say
say "Step 4: start a demo-batch process"
t0=$(now_us)
start_demo demo-batch
batch_pid=$last_pid
wait_for "demo-batch to be counted" 10 metric_is procwatch_glob_processes 'demo-batch*' 1
show_globs
ok "procwatch_glob_processes{glob=\"demo-batch*\"} 1 after $(since "$t0")"

say
say "Step 5: stop it; its exit is counted"
t0=$(now_us)
stop_pids 5 "$batch_pid"
wait_for "demo-batch's exit to be counted" 10 \
	eval 'metric_is procwatch_glob_process_exits_total "demo-batch*" 1 &&
		[ "$(value procwatch_glob_processes "demo-batch*")" = 0 ]'
grep '^procwatch_glob_process_[a-z]*_total{glob="demo-batch\*"}' <<<"$metrics" | sed 's/^/    /'
ok "procwatch_glob_processes 0 and procwatch_glob_process_exits_total 1 after $(since "$t0")"

say
say "Step 6: procctl globs rm demo-web"
t0=$(now_us)
"${procctl[@]}" globs rm demo-web | sed 's/^/    /'
wait_for "demo-web to leave /metrics" 10 eval 'scrape && [ -z "$(value procwatch_glob_processes demo-web)" ]'
show_globs
ok "demo-web's series are gone after $(since "$t0")"

say
say "Step 7: the agent runs the version procctl wrote"
version=$("${procctl[@]}" get | awk 'NR == 1 && $1 == "version" { print $2 }')
[ -n "$version" ] || fail "procctl get printed no version"
wait_for "procwatch_state_version $version" 10 eval 'scrape && grep -qx "procwatch_state_version $version" <<<"$metrics"'
grep -E '^procwatch_(globs|state_version|state_stale|zookeeper_connected) ' <<<"$metrics" | sed 's/^/    /'
ok "procctl get says version $version; so does the agent"

say
say "demo: all $steps steps observed"
