#!/usr/bin/env bash
# server.sh — compare codis-server with Debian's redis-server 7.0.
#
# Starts bin/codis-server and redis-server side by side on free loopback
# ports (persistence off), then:
#   1. loads KEYS keys (default 1,000,000; "key:<i>" → 100-byte value) into
#      each fresh server with the same pipelined stream of SET commands
#      (redis-cli --pipe) and measures used_memory, RSS (VmRSS) and the
#      ratios (printed at the end);
#   2. runs redis-benchmark -c 50 -n N -r 1000000 -d 256 -q, one test at a
#      time (set get incr lpush lpop sadd hset zadd mset eval), at -P 1 and -P 16,
#      alternating which server goes first from test to test so that noise
#      on a shared machine hits both alike, and prints ops/s, the ratio
#      ours/redis and each server's CPU time (user+system) per request,
#      which is much less sensitive than ops/s to other load on the host.
#      The "eval" test runs a small script through redis-benchmark's custom
#      command mode: EVAL "return redis.call('set',KEYS[1],ARGV[1])" 1
#      key:__rand_int__ val.
# Every process it starts is stopped on exit. Each measurement starts after
# PAUSE seconds of quiet (default 1) for both servers alike: codis-server
# collects garbage when it has been idle for 0.2 s (pkg/server/idlegc.go),
# and without the pause that collection would run while redis-server is
# being measured, on the same two cores. The pause gives every 200k-request
# run a fresh heap headroom; a longer test (N=2000000) shows the sustained
# rate with collections inside the run.
#
# Environment: N (requests per test, default 200000), PIPELINES (default
# "1 16"), TESTS (default "set get incr lpush lpop sadd hset zadd mset eval"),
# ROUNDS (runs per cell, the median is printed; default 1), PAUSE (seconds
# of quiet before each run, default 1), KEYS (default
# 1000000), BASEPORT (default: a free port in 12000-19999, below the
# ephemeral range), KEEP (non-empty keeps the work directory), SERVER_ARGS
# (extra codis-server arguments, e.g. "--hz 100"), CODIS_SERVER (a binary
# to use instead of bin/codis-server). GOMAXPROCS and GOGC in
# the environment reach codis-server (e.g. GOMAXPROCS=1).
set -euo pipefail

cd "$(dirname "$0")/../.."
N=${N:-200000}
PIPELINES=${PIPELINES:-"1 16"}
TESTS=${TESTS:-"set get incr lpush lpop sadd hset zadd mset eval"}
ROUNDS=${ROUNDS:-1}
PAUSE=${PAUSE:-1}
KEYS=${KEYS:-1000000}

# shellcheck source=extern/bench/lib.bash
. extern/bench/lib.bash
require "$REDIS_SERVER" "$REDIS_BENCH" "$REDIS_CLI"
pick_baseport 2
OURS_PORT=$BASEPORT
REDIS_PORT=$((BASEPORT + 1))

bench_workdir server-bench
codis_server_bin

mkdir -p "$WORK/ours" "$WORK/redis"
# shellcheck disable=SC2086
"$CODIS_SERVER" --port "$OURS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
	--protected-mode no --dir "$WORK/ours" --logfile "$WORK/ours/server.log" ${SERVER_ARGS:-} &
OURS_PID=$!
PIDS+=("$OURS_PID")
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
	--daemonize no --protected-mode no --dir "$WORK/redis" --logfile "$WORK/redis/redis.log" &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_ping "$OURS_PORT"
wait_ping "$REDIS_PORT"

# bench PORT PIPELINE TEST → ops/s
bench() {
	local what=(-t "$3")
	if [ "$3" = eval ]; then
		what=(EVAL "return redis.call('set',KEYS[1],ARGV[1])" 1 "key:__rand_int__" val)
	fi
	"$REDIS_BENCH" -p "$1" -c 50 -n "$N" -r 1000000 -d 256 -P "$2" -q "${what[@]}" 2>/dev/null |
		tr '\r' '\n' | awk '/requests per second/ {
			for (i = 1; i <= NF; i++) if ($(i+1) == "requests") v = $i
		} END { print (v == "" ? 0 : v) }'
}

# cpu_ticks PID → user+system clock ticks consumed so far
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# measure PORT PID PIPELINE TEST → OPS (ops/s) and CPU (server CPU µs per request)
measure() {
	local before after
	sleep "$PAUSE"
	before=$(cpu_ticks "$2")
	OPS=$(bench "$1" "$3" "$4")
	after=$(cpu_ticks "$2")
	CPU=$(awk -v d=$((after - before)) -v t="$TCK" -v n="$N" 'BEGIN { printf "%.2f", d / t * 1e6 / n }')
}

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# Memory first, on fresh processes: the same stream of SET commands into both.
mem() { # port → used_memory in bytes
	"$REDIS_CLI" -p "$1" INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'
}
rss() { # pid → VmRSS in bytes
	awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$1/status"
}
base_o=$(rss "$OURS_PID") base_r=$(rss "$REDIS_PID")
for port in "$OURS_PORT" "$REDIS_PORT"; do
	gen_sets | "$REDIS_CLI" -p "$port" --pipe >/dev/null
	n=$("$REDIS_CLI" -p "$port" DBSIZE)
	[ "$n" = "$KEYS" ] || { echo "$0: port $port holds $n keys after loading, want $KEYS" >&2; exit 1; }
done
sleep 1
mo=$(mem "$OURS_PORT") mr=$(mem "$REDIS_PORT")
ro=$(rss "$OURS_PID") rr=$(rss "$REDIS_PID")
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
MEM_TABLE=$(
	printf '%-22s %14s %14s %7s\n' "memory, $KEYS keys" codis-server redis-server ratio
	printf '%-22s %14s %14s %7s\n' used_memory "$(mb "$mo")" "$(mb "$mr")" "$(ratio "$mo" "$mr")"
	printf '%-22s %14s %14s %7s\n' RSS "$(mb "$ro")" "$(mb "$rr")" "$(ratio "$ro" "$rr")"
	printf '%-22s %14s %14s\n' "RSS of the empty server" "$(mb "$base_o")" "$(mb "$base_r")"
)

nproc_s=$(nproc 2>/dev/null || echo "?")
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo "?")
echo "codis-server vs $("$REDIS_SERVER" --version | awk '{ print $3 }') on $cpu ($nproc_s CPUs), $(uname -sr)"
echo "redis-benchmark -c 50 -n $N -r 1000000 -d 256 -q, median of $ROUNDS"
echo
printf '%-6s %3s %14s %14s %7s %12s %12s\n' test P codis-server redis-server ratio "ours us/op" "redis us/op"
idx=0
for p in $PIPELINES; do
	"$REDIS_CLI" -p "$OURS_PORT" FLUSHALL >/dev/null
	"$REDIS_CLI" -p "$REDIS_PORT" FLUSHALL >/dev/null
	for t in $TESTS; do
		ours=() theirs=() ocpu=() rcpu=()
		for _ in $(seq "$ROUNDS"); do
			if [ $((idx % 2)) = 0 ]; then
				measure "$OURS_PORT" "$OURS_PID" "$p" "$t"; ours+=("$OPS"); ocpu+=("$CPU")
				measure "$REDIS_PORT" "$REDIS_PID" "$p" "$t"; theirs+=("$OPS"); rcpu+=("$CPU")
			else
				measure "$REDIS_PORT" "$REDIS_PID" "$p" "$t"; theirs+=("$OPS"); rcpu+=("$CPU")
				measure "$OURS_PORT" "$OURS_PID" "$p" "$t"; ours+=("$OPS"); ocpu+=("$CPU")
			fi
			idx=$((idx + 1))
		done
		o=$(median "${ours[@]}")
		r=$(median "${theirs[@]}")
		printf '%-6s %3s %14.0f %14.0f %7s %12.2f %12.2f\n' "$t" "$p" "$o" "$r" "$(ratio "$o" "$r")" \
			"$(median "${ocpu[@]}")" "$(median "${rcpu[@]}")"
	done
done

echo
echo "$MEM_TABLE"
