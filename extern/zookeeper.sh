#!/usr/bin/env bash
# zookeeper.sh start|stop|run PORT DIR
#
# Throwaway standalone ZooKeeper (Debian package, 3.8) for tests and local
# experiments. Everything lives under DIR: zoo.cfg, data/, zookeeper.log and
# zookeeper.pid. The client port listens on 127.0.0.1 only; the admin server
# is disabled and the "ruok"/"srvr"/"stat" four-letter words are enabled so
# readiness can be probed without a client library.
#
#   start  write the config, launch the server in the background, wait until
#          "srvr" says it serves, record its pid in DIR/zookeeper.pid
#   stop   stop the server recorded in DIR/zookeeper.pid (TERM, then KILL)
#   run    write the config and exec the server in the foreground (used by
#          pkg/testenv, which supervises the process itself)
#
# Environment: JAVA (default java), ZK_CLASSPATH (default the Debian jar),
# ZK_START_TIMEOUT seconds (default 60).
set -euo pipefail

usage() { echo "usage: $0 start|stop|run PORT DIR" >&2; exit 2; }
[ $# -eq 3 ] || usage
cmd=$1 port=$2 dir=$3
case $port in ''|*[!0-9]*) echo "$0: bad port '$port'" >&2; exit 2;; esac
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidfile=$dir/zookeeper.pid
JAVA=${JAVA:-java}
ZK_CLASSPATH=${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar}

write_config() {
	mkdir -p "$dir/data"
	cat >"$dir/zoo.cfg" <<CFG
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=120000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat
autopurge.purgeInterval=0
CFG
}

probe() {
	local reply
	# "srvr" answers "This ZooKeeper instance is not currently serving
	# requests" until the server really serves.
	reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf srvr >&3 && cat <&3" 2>/dev/null) || return 1
	case $reply in 'Zookeeper version:'*) return 0;; esac
	return 1
}

running_pid() {
	[ -f "$pidfile" ] || return 1
	local pid
	pid=$(cat "$pidfile")
	case $pid in ''|*[!0-9]*) return 1;; esac
	# Only trust the pid if that process is really our server.
	grep -qF "$dir/zoo.cfg" "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

run() {
	write_config
	exec "$JAVA" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-Dzookeeper.admin.enableServer=false \
		-Dzookeeper.jmx.log4j.disable=true \
		-Dzookeeper.log.dir="$dir" \
		-cp "$ZK_CLASSPATH" \
		org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg"
}

start() {
	if pid=$(running_pid); then
		echo "$0: already running (pid $pid)" >&2
		exit 1
	fi
	nohup "$0" run "$port" "$dir" >"$dir/zookeeper.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$pidfile"
	deadline=$((SECONDS + ${ZK_START_TIMEOUT:-60}))
	until probe; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$0: zookeeper exited during startup; log:" >&2
			tail -n 30 "$dir/zookeeper.log" >&2
			rm -f "$pidfile"
			exit 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "$0: zookeeper on 127.0.0.1:$port not ready in time; log:" >&2
			tail -n 30 "$dir/zookeeper.log" >&2
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
