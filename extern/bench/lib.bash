# lib.bash — helpers shared by the benchmark scripts in this directory
# (sourced, not run: `make bench` runs only the *.sh files). The caller
# has cd'ed to the repository root.

# The Debian binaries the scripts drive; the environment may name others.
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_BENCH=${REDIS_BENCH:-/usr/bin/redis-benchmark}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}

# require BIN...: exit unless every BIN is executable.
require() {
	local b
	for b; do
		[ -x "$b" ] || { echo "$0: missing $b" >&2; exit 1; }
	done
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_baseport N: unless BASEPORT is set, choose one in 12000-19999
# (below the ephemeral range) with N free ports from it on.
pick_baseport() {
	[ -n "${BASEPORT:-}" ] && return 0
	local i ok
	for _ in $(seq 50); do
		BASEPORT=$((12000 + RANDOM % 7990))
		ok=1
		for ((i = 0; i < $1; i++)); do
			port_free $((BASEPORT + i)) || { ok=0; break; }
		done
		[ "$ok" = 1 ] && return 0
	done
}

# bench_workdir NAME: a fresh work directory in WORK, and a trap that stops
# every process listed in PIDS (TERM, then KILL after 5 s) and removes WORK
# (kept, and printed, when KEEP is set).
bench_workdir() {
	WORK=$(mktemp -d "/tmp/codis-$1.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "work dir: $WORK"; fi
}

# wait_ping PORT: wait up to 20 s for PONG on PORT, or exit.
wait_ping() {
	for _ in $(seq 200); do
		[ "$("$REDIS_CLI" -p "$1" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	echo "$0: nothing answers PING on port $1" >&2
	exit 1
}

# codis_server_bin: CODIS_SERVER, or bin/codis-server (re)built when a Go
# source is newer.
codis_server_bin() {
	CODIS_SERVER=${CODIS_SERVER:-}
	[ -n "$CODIS_SERVER" ] && return 0
	CODIS_SERVER=bin/codis-server
	if [ ! -x bin/codis-server ] || [ -n "$(find cmd/server pkg -name '*.go' -newer bin/codis-server -print -quit)" ]; then
		echo "building bin/codis-server"
		go build -o bin/codis-server ./cmd/server
	fi
}

# gen_sets: KEYS pipelined SET commands, "key:<i>" → a 100-byte value.
gen_sets() {
	awk -v n="$KEYS" 'BEGIN {
		v = sprintf("%100s", ""); gsub(/ /, "v", v)
		for (i = 0; i < n; i++) {
			k = "key:" i
			printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v
		}
	}'
}
