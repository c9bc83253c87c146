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
# Environment: N (requests per test, default 200000), PIPELINES (default
# "1 32"), BASEPORT (default: random in 20000-29999), CODIS_NCPU (default 2),
# KEEP (non-empty keeps the work directory).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
N=${N:-200000}
PIPELINES=${PIPELINES:-"1 32"}
BASEPORT=${BASEPORT:-$((20000 + RANDOM % 9000))}
CODIS_NCPU=${CODIS_NCPU:-2}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_BENCH=${REDIS_BENCH:-/usr/bin/redis-benchmark}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}
NUTCRACKER=${NUTCRACKER:-/usr/sbin/nutcracker}

for b in "$REDIS_SERVER" "$REDIS_BENCH" "$REDIS_CLI" "$NUTCRACKER"; do
	[ -x "$b" ] || { echo "$0: missing $b" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/codis-bench.XXXXXX)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "work dir: $WORK"; fi
}
trap cleanup EXIT INT TERM

wait_ping() { # port
	for _ in $(seq 100); do
		if [ "$("$REDIS_CLI" -p "$1" PING 2>/dev/null)" = PONG ]; then return 0; fi
		sleep 0.1
	done
	echo "$0: nothing answers PING on port $1" >&2
	exit 1
}

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

PROXY_PORT=$((BASEPORT + 20))
ADMIN_PORT=$((BASEPORT + 21))
cat > "$WORK/proxy.toml" <<TOML
product_name = "bench"
proxy_addr = "127.0.0.1:$PROXY_PORT"
admin_addr = "127.0.0.1:$ADMIN_PORT"
proto_type = "tcp4"
backend_number_databases = 1
TOML
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
./bin/codis-proxy --ncpu="$CODIS_NCPU" --config="$WORK/proxy.toml" --fillslots="$WORK/slots.json" \
	--log="$WORK/proxy.log" --log-level=WARN &
PIDS+=($!)
wait_ping "$PROXY_PORT"

# bench PORT PIPELINE → prints "get set mset" ops/s
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

printf "\n%-6s %-5s %12s %12s %12s %10s %10s\n" "P" "test" "direct" "nutcracker" "codis-proxy" "ours/nc" "ours/dir"
for P in $PIPELINES; do
	read -r d_set d_get d_mset <<<"$(bench "${BACKENDS[0]##*:}" "$P")"
	read -r n_set n_get n_mset <<<"$(bench "$NC_PORT" "$P")"
	read -r o_set o_get o_mset <<<"$(bench "$PROXY_PORT" "$P")"
	for t in set get mset; do
		d=d_$t n=n_$t o=o_$t
		printf "%-6s %-5s %12s %12s %12s %10s %10s\n" "-P $P" "$t" "${!d}" "${!n}" "${!o}" \
			"$(ratio "${!o}" "${!n}")" "$(ratio "${!o}" "${!d}")"
	done
done
