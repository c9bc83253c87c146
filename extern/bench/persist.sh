#!/usr/bin/env bash
# persist.sh — persistence and replication costs of codis-server next to
# Debian's redis-server 7.0, in the same run:
#   1. client stall during BGSAVE and BGREWRITEAOF: each server is loaded
#      with KEYS keys (default 1,000,000; 100-byte values), then
#      redis-benchmark runs a SET load with C clients (default 4) twice —
#      once alone, once with a BGSAVE started a second into it — and the
#      maximum and p99 latency of both runs are printed, with the BGSAVE
#      duration; then the same with the AOF on (everysec) and BGREWRITEAOF;
#   2. full resync of those KEYS keys: a fresh replica of the same kind is
#      started; the time until its link is up and it holds every key
#      (masters run with repl-diskless-sync-delay 0: Redis would otherwise
#      wait 5 s for more replicas before it starts the transfer);
#   3. replication lag under load: redis-benchmark -t set -P 16 on the
#      master; every 100 ms the master's offset and then the replica's
#      (master_repl_offset of each) are read, and the largest gap (bytes of
#      stream the replica had not applied yet) and the time the replica
#      needs to catch up after the load ends are printed.
# Every process it starts is stopped on exit.
#
# Environment: KEYS (default 1000000), C (default 4), BASEPORT (default: a
# free port in 12000-19999), KEEP (non-empty keeps the work directory),
# CODIS_SERVER (a codis-server binary to use instead of bin/codis-server).
set -euo pipefail

cd "$(dirname "$0")/../.."
KEYS=${KEYS:-1000000}
C=${C:-4}

# shellcheck source=extern/bench/lib.bash
. extern/bench/lib.bash
require "$REDIS_SERVER" "$REDIS_BENCH" "$REDIS_CLI"
pick_baseport 4
bench_workdir persist-bench

codis_server_bin

# start KIND PORT [args...]: KIND is ours or redis; sets PID.
start() {
	local kind=$1 port=$2 dir="$WORK/$1-$2"
	shift 2
	mkdir -p "$dir"
	if [ "$kind" = ours ]; then
		"$CODIS_SERVER" --port "$port" --bind 127.0.0.1 --save "" --protected-mode no \
			--dir "$dir" --logfile "$dir/log" "$@" &
	else
		"$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save "" --protected-mode no \
			--daemonize no --dir "$dir" --logfile "$dir/log" "$@" &
	fi
	PID=$!
	PIDS+=("$PID")
	wait_ping "$port"
}

info() { # port field
	"$REDIS_CLI" -p "$1" INFO all | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}
now_ms() { date +%s%3N; }

# setload PORT N → "p99 max" latency in ms of a SET load with C clients
setload() {
	"$REDIS_BENCH" -p "$1" -c "$C" -n "$2" -r "$KEYS" -d 100 -t set --csv 2>/dev/null |
		awk -F'","' 'NR == 2 { gsub(/"/, "", $8); print $7, $8 }'
}

# bg_run PORT N CMD → "p99 max secs": the load with CMD (BGSAVE or
# BGREWRITEAOF) started one second in; secs is how long CMD ran
bg_run() {
	local port=$1 n=$2 cmd=$3 out="$WORK/load.$1" t0 t1 busy status
	busy=rdb_bgsave_in_progress status=rdb_last_bgsave_status
	if [ "$cmd" = BGREWRITEAOF ]; then
		busy=aof_rewrite_in_progress status=aof_last_bgrewrite_status
	fi
	setload "$port" "$n" >"$out" &
	local lp=$!
	sleep 1
	t0=$(now_ms)
	"$REDIS_CLI" -p "$port" "$cmd" >/dev/null
	sleep 0.05
	while [ "$(info "$port" "$busy")" != 0 ]; do sleep 0.02; done
	t1=$(now_ms)
	wait "$lp"
	[ "$(info "$port" "$status")" = ok ] || { echo "$0: $cmd failed on $port" >&2; exit 1; }
	echo "$(cat "$out") $(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1000 }')"
}

# aof_on PORT: turn the AOF on and wait for its first rewrite to finish
aof_on() {
	"$REDIS_CLI" -p "$1" CONFIG SET appendonly yes >/dev/null
	sleep 0.1
	until [ "$(info "$1" aof_rewrite_in_progress)" = 0 ] && [ "$(info "$1" aof_rewrite_scheduled)" = 0 ]; do
		sleep 0.05
	done
}

# calibrate N so that a load lasts a few seconds on this machine
start redis "$BASEPORT"
cal_t0=$(now_ms)
setload "$BASEPORT" 50000 >/dev/null
cal=$(($(now_ms) - cal_t0))
"$REDIS_CLI" -p "$BASEPORT" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$PID" 2>/dev/null || true
LOADN=$((50000 * 6000 / (cal > 0 ? cal : 1)))

declare -A STALL AOFSTALL SYNC LAG
for kind in ours redis; do
	m=$BASEPORT r=$((BASEPORT + 1))
	[ "$kind" = redis ] && m=$((BASEPORT + 2)) r=$((BASEPORT + 3))
	start "$kind" "$m" --repl-diskless-sync-delay 0
	gen_sets | "$REDIS_CLI" -p "$m" --pipe >/dev/null
	[ "$("$REDIS_CLI" -p "$m" DBSIZE)" = "$KEYS" ] || { echo "$0: load failed on $m" >&2; exit 1; }
	read -r p99a maxa < <(setload "$m" "$LOADN")
	read -r p99b maxb secs < <(bg_run "$m" "$LOADN" BGSAVE)
	STALL[$kind]="$p99a $maxa $p99b $maxb $secs"
	aof_on "$m"
	read -r p99a maxa < <(setload "$m" "$LOADN")
	read -r p99b maxb secs < <(bg_run "$m" "$LOADN" BGREWRITEAOF)
	AOFSTALL[$kind]="$p99a $maxa $p99b $maxb $secs"
	"$REDIS_CLI" -p "$m" CONFIG SET appendonly no >/dev/null

	t0=$(now_ms)
	start "$kind" "$r" --replicaof 127.0.0.1 "$m"
	until [ "$(info "$r" master_link_status)" = up ] && [ "$("$REDIS_CLI" -p "$r" DBSIZE)" = "$("$REDIS_CLI" -p "$m" DBSIZE)" ]; do
		sleep 0.05
	done
	SYNC[$kind]=$(awk -v d=$(($(now_ms) - t0)) 'BEGIN { printf "%.2f", d / 1000 }')

	"$REDIS_BENCH" -p "$m" -c 50 -n $((LOADN * 10)) -r "$KEYS" -d 100 -P 16 -t set -q >/dev/null 2>&1 &
	lp=$!
	maxgap=0
	while kill -0 "$lp" 2>/dev/null; do
		mo=$(info "$m" master_repl_offset)
		ro=$(info "$r" master_repl_offset)
		gap=$((mo - ro))
		[ "$gap" -gt "$maxgap" ] && maxgap=$gap
		sleep 0.1
	done
	wait "$lp" || true
	t0=$(now_ms)
	until [ "$(info "$m" master_repl_offset)" = "$(info "$r" slave_repl_offset)" ]; do sleep 0.01; done
	LAG[$kind]="$maxgap $(($(now_ms) - t0))"
done

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo "?")
echo "codis-server vs $("$REDIS_SERVER" --version | awk '{ print $3 }') on $cpu ($(nproc) CPUs), $KEYS keys of 100 bytes"
echo
echo "SET load with $C clients ($LOADN requests), latency in ms; BGSAVE / BGREWRITEAOF started 1 s into the second run"
printf '%-13s %-12s %10s %10s %10s %10s %8s\n' server "" "p99 alone" "max alone" "p99 w/ bg" "max w/ bg" "bg secs"
for kind in ours redis; do
	name=$([ "$kind" = ours ] && echo codis-server || echo redis-server)
	read -r a b c d e <<<"${STALL[$kind]}"
	printf '%-13s %-12s %10s %10s %10s %10s %8s\n' "$name" BGSAVE "$a" "$b" "$c" "$d" "$e"
	read -r a b c d e <<<"${AOFSTALL[$kind]}"
	printf '%-13s %-12s %10s %10s %10s %10s %8s\n' "$name" "BGREWRITEAOF" "$a" "$b" "$c" "$d" "$e"
done
echo "(the AOF runs with appendfsync everysec)"
echo
printf '%-13s %16s %18s %16s\n' server "full sync secs" "max lag (bytes)" "catch-up ms"
for kind in ours redis; do
	read -r g c <<<"${LAG[$kind]}"
	printf '%-13s %16s %18s %16s\n' "$([ "$kind" = ours ] && echo codis-server || echo redis-server)" "${SYNC[$kind]}" "$g" "$c"
done
echo "(replication lag: redis-benchmark -c 50 -P 16 -t set on the master, replica of the same kind)"
