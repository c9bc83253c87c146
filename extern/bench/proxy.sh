#!/usr/bin/env bash
# proxy.sh — compare codis-proxy with nutcracker (twemproxy) and with one
# redis-server, using redis-benchmark.
#
# Starts 4 redis-server backends, nutcracker (crc32a, hash_tag "{}", modula
# over the 4 backends) and bin/codis-proxy (4 groups covering the 1024
# slots through --fillslots), then runs
#   redis-benchmark -c 50 -n N -r 1000000 -d 256 -t get,set,mset -q
# at -P 1 and -P 32 against: one backend directly, nutcracker, codis-proxy.
# Prints ops/s and the ratios ours/nutcracker and ours/direct. Every
# process it starts is stopped on exit.
#
# codis-proxy runs twice, with --ncpu=1 and --ncpu=2 (GOMAXPROCS). On a
# 2-core machine shared with redis-benchmark, nutcracker and 4 servers,
# GOMAXPROCS=1 avoids cross-thread wake-ups and is usually the faster one;
# the ratios are printed for both.
#
# The ops/s columns are medians over the rounds; the ratio columns are the
# medians of the per-round ratios (see pairs below).
#
# Environment: N (requests per test, default 200000), PIPELINES (default
# "1 32"), ROUNDS (runs per cell, the median is printed; default 5: single -P 1 runs on a shared 2-core machine spread by ±10-15 %), BASEPORT (default: random in 20000-29999), KEEP (non-empty keeps
# the work directory).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
N=${N:-200000}
PIPELINES=${PIPELINES:-"1 32"}
ROUNDS=${ROUNDS:-5}
BASEPORT=${BASEPORT:-$((20000 + RANDOM % 9000))}
NUTCRACKER=${NUTCRACKER:-/usr/sbin/nutcracker}

# shellcheck source=extern/bench/lib.bash
. extern/bench/lib.bash
require "$REDIS_SERVER" "$REDIS_BENCH" "$REDIS_CLI" "$NUTCRACKER"
bench_workdir bench

echo "building bin/codis-proxy"
go build -o bin/codis-proxy ./cmd/proxy

BACKENDS=()
for i in 0 1 2 3; do
	port=$((BASEPORT + i))
	mkdir -p "$WORK/redis$i"
	"$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize no --protected-mode no --dir "$WORK/redis$i" \
		--logfile "$WORK/redis$i/redis.log" &
	PIDS+=($!)
	BACKENDS+=("127.0.0.1:$port")
done
for i in 0 1 2 3; do wait_ping $((BASEPORT + i)); done

NC_PORT=$((BASEPORT + 10))
cat > "$WORK/nutcracker.yml" <<YML
bench:
  listen: 127.0.0.1:$NC_PORT
  hash: crc32a
  hash_tag: "{}"
  distribution: modula
  redis: true
  preconnect: true
  auto_eject_hosts: false
  servers:
$(for b in "${BACKENDS[@]}"; do echo "   - $b:1"; done)
YML
"$NUTCRACKER" -c "$WORK/nutcracker.yml" -s $((BASEPORT + 11)) -o "$WORK/nutcracker.log" &
PIDS+=($!)
wait_ping "$NC_PORT"

{
	echo "["
	for s in $(seq 0 1023); do
		g=$((s * 4 / 1024))
		sep=","
		[ "$s" = 1023 ] && sep=""
		echo "{\"id\":$s,\"backend_addr\":\"${BACKENDS[$g]}\",\"backend_addr_group_id\":$((g + 1))}$sep"
	done
	echo "]"
} > "$WORK/slots.json"

# start_proxy NCPU PORT ADMINPORT
start_proxy() {
	cat > "$WORK/proxy$1.toml" <<TOML
product_name = "bench"
proxy_addr = "127.0.0.1:$2"
admin_addr = "127.0.0.1:$3"
proto_type = "tcp4"
backend_number_databases = 1
TOML
	./bin/codis-proxy --ncpu="$1" --config="$WORK/proxy$1.toml" --fillslots="$WORK/slots.json" \
		--log="$WORK/proxy$1.log" --log-level=WARN &
	PIDS+=($!)
	wait_ping "$2"
}
P1_PORT=$((BASEPORT + 20))
P2_PORT=$((BASEPORT + 22))
start_proxy 1 "$P1_PORT" $((BASEPORT + 21))
start_proxy 2 "$P2_PORT" $((BASEPORT + 23))

# bench PORT PIPELINE → prints "set get mset" ops/s
bench() {
	"$REDIS_BENCH" -p "$1" -c 50 -n "$N" -r 1000000 -d 256 -t get,set,mset -P "$2" -q 2>/dev/null |
		tr '\r' '\n' | awk '
			/requests per second/ {
				name=$1; sub(":", "", name)
				for (i = 1; i <= NF; i++) if ($(i+1) == "requests") v=$i
				ops[tolower(name)] = v
			}
			END { printf "%s %s %s\n", ops["set"], ops["get"], ops["mset"] }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# median of the arguments
median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# pairs A1 A2 ... -- B1 B2 ...: the median of the per-round ratios Ai/Bi.
# The targets of one round run back to back, so a ratio within a round is
# not moved by the host's speed changing between rounds (it does, by up to
# a third); the median of those ratios is steadier than a ratio of medians.
pairs() {
	local a=() b=() r=() i
	while [ "$1" != "--" ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	for i in "${!a[@]}"; do r+=("$(ratio "${a[$i]}" "${b[$i]}")"); done
	median "${r[@]}"
}

printf "\n%-6s %-5s %11s %11s %11s %11s %9s %9s %9s\n" "P" "test" "direct" "nutcracker" "ours-n1" "ours-n2" "n1/nc" "n2/nc" "n1/dir"
for P in $PIPELINES; do
	declare -A R=()
	for round in $(seq "$ROUNDS"); do
		# Interleave the targets so background load hits them alike, and
		# reverse their order every other round so that neither proxy
		# always runs right after the other (or after the direct run).
		targets=(d:"${BACKENDS[0]##*:}" n:"$NC_PORT" a:"$P1_PORT" b:"$P2_PORT")
		if [ $((round % 2)) = 0 ]; then
			targets=("${targets[3]}" "${targets[2]}" "${targets[1]}" "${targets[0]}")
		fi
		for tgt in "${targets[@]}"; do
			read -r set get mset <<<"$(bench "${tgt#*:}" "$P")"
			k=${tgt%%:*}
			R[$k,set]+=" $set" R[$k,get]+=" $get" R[$k,mset]+=" $mset"
		done
	done
	for t in set get mset; do
		d=$(median ${R[d,$t]}) n=$(median ${R[n,$t]}) a=$(median ${R[a,$t]}) b=$(median ${R[b,$t]})
		printf "%-6s %-5s %11s %11s %11s %11s %9s %9s %9s\n" "-P $P" "$t" "$d" "$n" "$a" "$b" \
			"$(pairs ${R[a,$t]} -- ${R[n,$t]})" "$(pairs ${R[b,$t]} -- ${R[n,$t]})" "$(pairs ${R[a,$t]} -- ${R[d,$t]})"
	done
	unset R
done
