#!/usr/bin/env bash
# etcd.sh start|stop|run CLIENTPORT PEERPORT DIR
#
# Throwaway single-member etcd (Debian etcd-server, 3.4, v3 API) for tests and
# local experiments. Data lives in DIR/data, output in DIR/etcd.log, the pid in
# DIR/etcd.pid. Client and peer URLs listen on 127.0.0.1 only.
#
#   start  launch the server in the background, wait until /health reports
#          true, record its pid in DIR/etcd.pid
#   stop   stop the server recorded in DIR/etcd.pid (TERM, then KILL)
#   run    exec the server in the foreground (used by pkg/testenv, which
#          supervises the process itself)
#
# Environment: ETCD (default etcd), ETCD_START_TIMEOUT seconds (default 60).
set -euo pipefail

usage() { echo "usage: $0 start|stop|run CLIENTPORT PEERPORT DIR" >&2; exit 2; }
[ $# -eq 4 ] || usage
cmd=$1 cport=$2 pport=$3 dir=$4
for p in "$cport" "$pport"; do
	case $p in ''|*[!0-9]*) echo "$0: bad port '$p'" >&2; exit 2;; esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidfile=$dir/etcd.pid
ETCD=${ETCD:-etcd}
curl_url=http://127.0.0.1:$cport

probe() {
	local reply
	reply=$(curl -fsS --max-time 2 "$curl_url/health" 2>/dev/null) || return 1
	case $reply in *'"health":"true"'*) return 0;; esac
	return 1
}

running_pid() {
	[ -f "$pidfile" ] || return 1
	local pid
	pid=$(cat "$pidfile")
	case $pid in ''|*[!0-9]*) return 1;; esac
	grep -qF "$dir/data" "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

run() {
	exec "$ETCD" \
		--name codis-test \
		--data-dir "$dir/data" \
		--listen-client-urls "http://127.0.0.1:$cport" \
		--advertise-client-urls "http://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "codis-test=http://127.0.0.1:$pport" \
		--initial-cluster-state new \
		--initial-cluster-token "codis-test-$cport" \
		--heartbeat-interval 50 \
		--election-timeout 500 \
		--logger zap \
		--log-level warn \
		--log-outputs stderr
}

start() {
	if pid=$(running_pid); then
		echo "$0: already running (pid $pid)" >&2
		exit 1
	fi
	nohup "$0" run "$cport" "$pport" "$dir" >"$dir/etcd.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$pidfile"
	deadline=$((SECONDS + ${ETCD_START_TIMEOUT:-60}))
	until probe; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$0: etcd exited during startup; log:" >&2
			tail -n 30 "$dir/etcd.log" >&2
			rm -f "$pidfile"
			exit 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "$0: etcd on $curl_url not ready in time; log:" >&2
			tail -n 30 "$dir/etcd.log" >&2
			stop
			exit 1
		fi
		sleep 0.1
	done
}

stop() {
	local pid i
	if ! pid=$(running_pid); then
		rm -f "$pidfile"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

case $cmd in
start) start ;;
stop) stop ;;
run) run ;;
*) usage ;;
esac
