#!/usr/bin/env bash
# Smoke test of the local cluster started by example/setup.py.
#
#   1. setup.py --background        (a cluster left running, as after a crash)
#   2. setup.py in the foreground   (must stop the leftover and start afresh)
#   3. check every process: setup.py --status, codis-admin --slots-status,
#      --group-status, --proxy-status; codis-fe lists the product, serves
#      the web UI and forwards to the dashboard
#   4. write 10,000 keys through the 4 proxies, read all of them back through
#      each proxy
#   5. migrate 16 slots (0-15, group 1 -> group 2) with codis-admin while a
#      writer keeps writing; check every key afterwards and that the slots
#      moved on the codis-servers
#   5b. rebalance with codis-admin --rebalance --confirm while a writer
#      writes, until every group owns 256 slots again; check every key
#   6. check every replica: master_link_status:up and, once replication has
#      caught up, exactly its master's keys and values (SCAN + GET on both)
#   6b. group 4's master dies: the sentinels promote its replica, the proxies
#      follow them, every key reads back and new writes land; the sentinel
#      notification and reconfig scripts ran
#   7. SIGTERM to setup.py; check no process, port or file is left
#
# Needs bin/ built (make build) and redis-cli. Exits non-zero on failure.
# SMOKE_PORT_OFFSET (default 0) shifts every port, as setup.py --port-offset.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BIN="$ROOT/bin"
OFF="${SMOKE_PORT_OFFSET:-0}"
SETUP=(python3 "$HERE/setup.py" "--port-offset=$OFF")
DASH="127.0.0.1:$((18080 + OFF))"
FE="127.0.0.1:$((8080 + OFF))"
ADMIN=("$BIN/codis-admin" "--dashboard=$DASH")
PROXIES=($((19000 + OFF)) $((19001 + OFF)) $((19002 + OFF)) $((19003 + OFF)))
MASTERS=($((16380 + OFF)) $((16381 + OFF)) $((16382 + OFF)) $((16383 + OFF)))
REPLICAS=($((17380 + OFF)) $((17381 + OFF)) $((17382 + OFF)) $((17383 + OFF)))
SENTINELS=($((20000 + OFF)) $((20001 + OFF)) $((20002 + OFF)) $((20003 + OFF)) $((20004 + OFF)))
RUN_DIR="${TMPDIR:-/tmp}/codis-demo-$(id -u)-$((18080 + OFF))"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/codis-smoke.XXXXXX")"
SETUP_PID=""
WRITER_PID=""

log() { printf '[smoke] %s\n' "$*"; }
fail() {
	printf '[smoke] FAIL: %s\n' "$*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	set +e
	if [ -n "$WRITER_PID" ] && kill -0 "$WRITER_PID" 2>/dev/null; then
		kill "$WRITER_PID" 2>/dev/null
		wait "$WRITER_PID" 2>/dev/null
	fi
	if [ -n "$SETUP_PID" ] && kill -0 "$SETUP_PID" 2>/dev/null; then
		kill -TERM "$SETUP_PID" 2>/dev/null
		wait "$SETUP_PID" 2>/dev/null
	fi
	"${SETUP[@]}" --stop >/dev/null 2>&1
	if [ $rc -ne 0 ] && [ -s "$WORK/setup.out" ]; then
		log "setup.py output:"
		sed 's/^/    /' "$WORK/setup.out" >&2
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for b in server dashboard proxy admin fe; do
	[ -x "$BIN/codis-$b" ] || fail "$BIN/codis-$b missing; run make build"
done
command -v redis-cli >/dev/null || fail "redis-cli not found"

# poll CMD... until it succeeds or SECONDS_LEFT runs out.
poll() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

# ---------------------------------------------------------------- 1 and 2
log "starting a cluster in the background (a leftover for the next run)"
"${SETUP[@]}" --background >"$WORK/bg.out" 2>&1 || {
	cat "$WORK/bg.out" >&2
	fail "setup.py --background failed"
}
cp "$RUN_DIR/state.json" "$WORK/state-bg.json"

log "starting the cluster in the foreground over the leftover"
"${SETUP[@]}" >"$WORK/setup.out" 2>&1 &
SETUP_PID=$!
# Up = the state file belongs to the new setup.py and --status is happy.
new_run_up() {
	kill -0 "$SETUP_PID" || return 1
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["owner_pid"] != int(sys.argv[2]))' \
		"$RUN_DIR/state.json" "$SETUP_PID" || return 1
	"${SETUP[@]}" --status
}
poll 120 new_run_up || fail "cluster did not come up (setup.py --status)"
grep -q "found a previous run" "$WORK/setup.out" || fail "leftover run was not detected"
cp "$RUN_DIR/state.json" "$WORK/state.json"

# The background run's processes must all be gone.
python3 - "$WORK/state-bg.json" <<'EOF' || fail "processes of the leftover run still alive"
import json, os, sys
for p in json.load(open(sys.argv[1]))["processes"]:
    try:
        argv = open("/proc/%d/cmdline" % p["pid"], "rb").read().split(b"\0")
    except OSError:
        continue
    if argv and argv[0].decode() == p["argv"][0]:
        # the same pid may have been reused by the new run: compare with the new state
        new = {q["pid"] for q in json.load(open(sys.argv[1].replace("state-bg", "state")))["processes"]}
        if p["pid"] not in new:
            sys.exit("leftover %s pid %d alive" % (p["name"], p["pid"]))
EOF

# ---------------------------------------------------------------- 3
log "checking the cluster through codis-admin"
"${ADMIN[@]}" --slots-status >"$WORK/slots.json" || fail "codis-admin --slots-status"
python3 - "$WORK/slots.json" "${MASTERS[@]}" <<'EOF' || fail "unexpected slot table"
import json, sys
slots = json.load(open(sys.argv[1]))
masters = sys.argv[2:]
assert len(slots) == 1024, "want 1024 slots, got %d" % len(slots)
for s in slots:
    g = s["id"] // 256
    want = "127.0.0.1:%s" % masters[g]
    assert s.get("backend_addr") == want, "slot %d on %r, want %s" % (s["id"], s.get("backend_addr"), want)
    assert s.get("backend_addr_group_id") == g + 1, "slot %d group %r" % (s["id"], s.get("backend_addr_group_id"))
EOF
# Masters report NO:ONE; replicas follow their master with the link up. The
# dashboard's view lags its stats refresh (a replica briefly shows [E] right
# after its SLAVEOF, whose CLIENT KILL closes the dashboard's connection, and
# the link is down until the first sync is done), so poll.
groups_ok() {
	"${ADMIN[@]}" --group-status >"$WORK/groups.txt" || return 1
	[ "$(grep -c '^\[.\] group-' "$WORK/groups.txt")" -eq 8 ] || return 1
	local i
	for i in 0 1 2 3; do
		grep -q "^\[ \] group-$((i + 1)) \[0\] 127.0.0.1:${MASTERS[$i]} .*==> NO:ONE" "$WORK/groups.txt" || return 1
		grep -q "^\[ \] group-$((i + 1)) \[1\] 127.0.0.1:${REPLICAS[$i]} .*==> 127.0.0.1:${MASTERS[$i]}:up" "$WORK/groups.txt" || return 1
	done
}
poll 30 groups_ok || fail "codis-admin --group-status: $(cat "$WORK/groups.txt")"
proxies_ok() {
	"${ADMIN[@]}" --proxy-status >"$WORK/proxies.txt" || return 1
	[ "$(grep -c '^\[ \] proxy-' "$WORK/proxies.txt")" -eq 4 ]
}
poll 30 proxies_ok || fail "want 4 healthy proxies in --proxy-status: $(cat "$WORK/proxies.txt")"
for p in "${PROXIES[@]}"; do
	[ "$(redis-cli -p "$p" ping)" = PONG ] || fail "proxy $p does not answer PING"
done
log "checking the web UI (codis-fe on $FE)"
product=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["product"])' "$RUN_DIR/state.json")
python3 - "$FE" "$product" <<'EOF' || fail "codis-fe on $FE"
import json, sys, urllib.error, urllib.request
fe, product = sys.argv[1], sys.argv[2]
def get(path):
    with urllib.request.urlopen("http://%s%s" % (fe, path), timeout=10) as r:
        return r.status, r.read().decode("utf-8")
status, body = get("/list")
assert status == 200 and product in json.loads(body), "GET /list = %d %r" % (status, body)
status, body = get("/")
assert status == 200 and "<title>Codis FE</title>" in body, "GET / = %d %r" % (status, body[:200])
for asset in ("/fe.js", "/fe.css", "/sha256.js"):
    status, body = get(asset)
    assert status == 200 and body, "GET %s = %d" % (asset, status)
status, body = get("/topom?forward=" + product)
doc = json.loads(body)
assert status == 200 and doc["model"]["product_name"] == product, "GET /topom through fe = %d" % status
assert len(doc["stats"]["group"]["models"]) == 4, "want 4 groups through fe"
try:
    get("/topom?forward=no-such-product")
    sys.exit("forward to an unknown product was not refused")
except urllib.error.HTTPError as e:
    assert e.code == 403, "unknown product: %d" % e.code
EOF

# ---------------------------------------------------------------- 4
log "writing 10,000 keys through the 4 proxies"
for j in 0 1 2 3; do
	for ((k = j * 2500; k < (j + 1) * 2500; k++)); do
		echo "SET smoke:key:$k value-$k"
	done >"$WORK/set-$j.txt"
	redis-cli -p "${PROXIES[$j]}" <"$WORK/set-$j.txt" >"$WORK/set-$j.out"
	[ "$(grep -cx OK "$WORK/set-$j.out")" -eq 2500 ] || fail "SET through proxy ${PROXIES[$j]}: $(sort "$WORK/set-$j.out" | uniq -c | head)"
done
for ((k = 0; k < 10000; k++)); do echo "GET smoke:key:$k"; done >"$WORK/get.txt"
for ((k = 0; k < 10000; k++)); do echo "value-$k"; done >"$WORK/want.txt"
check_keys() {
	local p
	for p in "${PROXIES[@]}"; do
		redis-cli -p "$p" <"$WORK/get.txt" >"$WORK/got.txt"
		cmp -s "$WORK/got.txt" "$WORK/want.txt" || {
			diff "$WORK/want.txt" "$WORK/got.txt" | head >&2 || true
			fail "reading the 10,000 keys through proxy $p ($1)"
		}
	done
}
check_keys "after writing"
log "read all 10,000 keys back through every proxy"

# ---------------------------------------------------------------- 5
log "migrating slots 0-15 from group 1 to group 2 while writing"
# Keys in slot 0-15 on group 1 before the migration (there must be some).
before=$(redis-cli -p "${MASTERS[0]}" slotsinfo 0 16 | paste -sd' ')
[ -n "$before" ] || fail "no keys in slots 0-15 to migrate"

# start_writer PORT FIRST: SET live:N N through the proxy on PORT, from
# N = FIRST on, until stop_writer; one redis-cli per batch of 100 so that
# keys keep arriving during a migration.
start_writer() {
	: >"$WORK/writer.ok"
	rm -f "$WORK/writer.stop" "$WORK/writer.err"
	(
		m=$2
		while [ ! -e "$WORK/writer.stop" ]; do
			for ((k = m; k < m + 100; k++)); do echo "SET live:$k $k"; done |
				redis-cli -p "$1" >"$WORK/writer.batch"
			if [ "$(grep -cx OK "$WORK/writer.batch")" -ne 100 ]; then
				sort "$WORK/writer.batch" | uniq -c >"$WORK/writer.err"
				exit 1
			fi
			m=$((m + 100))
			echo "$m" >"$WORK/writer.ok"
		done
	) &
	WRITER_PID=$!
	poll 30 test -s "$WORK/writer.ok" || fail "writer did not start"
}
# stop_writer WHAT: stop the writer; n becomes the number of live keys.
stop_writer() {
	touch "$WORK/writer.stop"
	wait "$WRITER_PID" || fail "writer failed during $1: $(cat "$WORK/writer.err" 2>/dev/null)"
	WRITER_PID=""
	n=$(cat "$WORK/writer.ok")
}
# check_live WHAT: every live key 0..n-1 reads back through every proxy.
check_live() {
	local k p
	for ((k = 0; k < n; k++)); do echo "GET live:$k"; done >"$WORK/live-get.txt"
	for ((k = 0; k < n; k++)); do echo "$k"; done >"$WORK/live-want.txt"
	for p in "${PROXIES[@]}"; do
		redis-cli -p "$p" <"$WORK/live-get.txt" >"$WORK/live-got.txt"
		cmp -s "$WORK/live-got.txt" "$WORK/live-want.txt" || {
			diff "$WORK/live-want.txt" "$WORK/live-got.txt" | head >&2 || true
			fail "keys written during $1, read through proxy $p"
		}
	done
}
start_writer "${PROXIES[1]}" 0

"${ADMIN[@]}" --slot-action --create-range --beg=0 --end=15 --gid=2 || fail "codis-admin --slot-action --create-range"
migrated() {
	"${ADMIN[@]}" --slots-status >"$WORK/slots.json" || return 1
	python3 - "$WORK/slots.json" <<'EOF'
import json, sys
slots = {s["id"]: s for s in json.load(open(sys.argv[1]))}
for i in range(16):
    s = slots[i]
    if s.get("backend_addr_group_id") != 2 or s.get("migrate_from"):
        sys.exit(1)
EOF
}
poll 120 migrated || fail "slots 0-15 did not reach group 2: $(head -c 600 "$WORK/slots.json")"
"${ADMIN[@]}" slots >"$WORK/mappings.json" || fail "codis-admin slots"
python3 - "$WORK/mappings.json" <<'EOF' || fail "slot actions not finished"
import json, sys
for m in json.load(open(sys.argv[1])):
    if m["id"] < 16:
        assert m["group_id"] == 2, m
        assert not m.get("action", {}).get("state"), m
EOF
stop_writer "the migration"
log "migration done; the writer wrote $n keys meanwhile"

after1=$(redis-cli -p "${MASTERS[0]}" slotsinfo 0 16 | paste -sd' ')
after2=$(redis-cli -p "${MASTERS[1]}" slotsinfo 0 16 | paste -sd' ')
[ -z "$after1" ] || fail "group 1 master still has keys in slots 0-15: $after1"
[ -n "$after2" ] || fail "group 2 master has no keys in slots 0-15"

check_keys "after the migration"
check_live "the migration"
log "all keys intact after the migration"

# ---------------------------------------------------------------- 5b
log "rebalancing with codis-admin while writing"
# The writer again, continuing after key n-1, through proxy 3.
start_writer "${PROXIES[2]}" "$n"
"${ADMIN[@]}" --rebalance --confirm >"$WORK/rebalance.txt" || fail "codis-admin --rebalance --confirm: $(cat "$WORK/rebalance.txt")"
balanced() {
	"${ADMIN[@]}" slots >"$WORK/mappings.json" || return 1
	python3 - "$WORK/mappings.json" <<'EOF'
import collections, json, sys
ms = json.load(open(sys.argv[1]))
if any(m.get("action", {}).get("state") for m in ms):
    sys.exit(1)
count = collections.Counter(m["group_id"] for m in ms)
sys.exit(0 if sorted(count.values()) == [256] * 4 else 1)
EOF
}
poll 120 balanced || fail "not 256 slots per group after --rebalance: $(cat "$WORK/rebalance.txt")"
stop_writer "the rebalance"
log "rebalanced to 256 slots per group; $n live keys written in all"
check_keys "after the rebalance"
check_live "the rebalance"
log "all keys intact after the rebalance"

# ---------------------------------------------------------------- 6
log "checking that every replica holds exactly its master's keys"
# dump_keys PORT OUT: every key of database 0 of that server and its value,
# sorted, one "key value" line each (every key of this test is a string).
dump_keys() {
	local port=$1 out=$2
	redis-cli -p "$port" --scan | LC_ALL=C sort >"$out.keys" || return 1
	if [ -s "$out.keys" ]; then
		sed 's/^/GET /' "$out.keys" | redis-cli -p "$port" >"$out.vals" || return 1
	else
		: >"$out.vals"
	fi
	[ "$(wc -l <"$out.keys")" -eq "$(wc -l <"$out.vals")" ] || return 1
	paste -d' ' "$out.keys" "$out.vals" >"$out"
}
# replica_in_sync I: replica I follows master I with the link up and holds
# the same keys and values. Nothing writes any more, so once replication has
# caught up both sides stay equal.
replica_in_sync() {
	local m=${MASTERS[$1]} r=${REPLICAS[$1]}
	redis-cli -p "$r" info replication | tr -d '\r' >"$WORK/repl-$r.txt" || return 1
	grep -qx "master_port:$m" "$WORK/repl-$r.txt" || return 1
	grep -qx "master_link_status:up" "$WORK/repl-$r.txt" || return 1
	dump_keys "$m" "$WORK/kv-$m" || return 1
	dump_keys "$r" "$WORK/kv-$r" || return 1
	cmp -s "$WORK/kv-$m" "$WORK/kv-$r"
}
total=0
for i in 0 1 2 3; do
	m=${MASTERS[$i]}
	r=${REPLICAS[$i]}
	poll 60 replica_in_sync "$i" || {
		sed 's/^/    /' "$WORK/repl-$r.txt" >&2 || true
		diff "$WORK/kv-$m" "$WORK/kv-$r" | head >&2 || true
		fail "replica $r does not hold the data of its master $m (link down or keys differ)"
	}
	cnt=$(wc -l <"$WORK/kv-$r")
	[ "$cnt" -gt 0 ] || fail "master $m and replica $r hold no keys"
	log "replica $r: link up, the same $cnt keys and values as master $m"
	total=$((total + cnt))
done
[ "$total" -eq $((10000 + n)) ] || fail "the replicas hold $total keys in all, want $((10000 + n))"
# Migrated slots left the replicas of their old group too: every replica's
# per-slot key counts are its master's.
for i in 0 1 2 3; do
	[ "$(redis-cli -p "${REPLICAS[$i]}" slotsinfo 0 1024)" = "$(redis-cli -p "${MASTERS[$i]}" slotsinfo 0 1024)" ] ||
		fail "SLOTSINFO of replica ${REPLICAS[$i]} differs from its master's"
done
log "all $total keys on the replicas too"

# ---------------------------------------------------------------- 6b
log "failing group 4's master over with the sentinels"
for s in "${SENTINELS[@]}"; do
	got=$(redis-cli -p "$s" SENTINEL GET-MASTER-ADDR-BY-NAME "$product-4" | tr '\n' ' ')
	[ "$got" = "127.0.0.1 ${MASTERS[3]} " ] || fail "sentinel $s: master of $product-4 is '$got'"
done
redis-cli -p "${MASTERS[3]}" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
poll 5 bash -c "! redis-cli -p ${MASTERS[3]} PING" || fail "master ${MASTERS[3]} still answers after SHUTDOWN"
promoted() { [ "$(redis-cli -p "${REPLICAS[3]}" ROLE | head -1)" = master ]; }
# Up to 150 s: a failed election among the sentinels is retried after
# twice sentinel_failover_timeout (30 s in the demo).
if ! poll 150 promoted; then
	for s in "${SENTINELS[@]}"; do
		log "sentinel $s log:"
		tail -15 "$RUN_DIR/log/sentinel-$s.log" >&2 || true
	done
	fail "the sentinels did not promote ${REPLICAS[3]} within 150 s"
fi
log "replica ${REPLICAS[3]} promoted by the sentinels"
# Every proxy follows +switch-master: a write to each group's slots works
# through every proxy (the keys f:0..f:199 cover all 4 groups).
for ((k = 0; k < 200; k++)); do echo "SET f:$k $k"; done >"$WORK/f-set.txt"
for ((k = 0; k < 200; k++)); do echo "GET f:$k"; done >"$WORK/f-get.txt"
for ((k = 0; k < 200; k++)); do echo "$k"; done >"$WORK/f-want.txt"
switched() {
	local p
	for p in "${PROXIES[@]}"; do
		[ "$(redis-cli -p "$p" <"$WORK/f-set.txt" | sort -u)" = OK ] || return 1
		redis-cli -p "$p" <"$WORK/f-get.txt" | cmp -s - "$WORK/f-want.txt" || return 1
	done
}
poll 30 switched || fail "writes through the proxies fail after the failover"
check_live "the failover"
log "every proxy follows the new master; all keys intact"
for f in sentinel_notify sentinel_reconfig; do
	grep -q "$product-4" "$RUN_DIR/log/$f.log" 2>/dev/null || fail "$f.sh did not run for $product-4"
done
log "the sentinel scripts ran: $(grep -c . "$RUN_DIR/log/sentinel_reconfig.log") reconfig line(s)"

# ---------------------------------------------------------------- 7
log "stopping the cluster with SIGTERM"
kill -TERM "$SETUP_PID"
rc=0
wait "$SETUP_PID" || rc=$?
SETUP_PID=""
[ $rc -eq 0 ] || fail "setup.py exited with status $rc after SIGTERM"

[ ! -e "$RUN_DIR" ] || fail "run directory $RUN_DIR left behind"
python3 - "$WORK/state.json" <<'EOF' || fail "processes left after SIGTERM"
import json, os, sys
left = []
for p in json.load(open(sys.argv[1]))["processes"]:
    try:
        argv = open("/proc/%d/cmdline" % p["pid"], "rb").read().split(b"\0")
    except OSError:
        continue
    exe = ""
    try:
        exe = os.path.realpath("/proc/%d/exe" % p["pid"])
    except OSError:
        pass
    if argv and (argv[0].decode() == p["argv"][0] or exe == os.path.realpath(p["argv"][0])):
        left.append("%s pid %d" % (p["name"], p["pid"]))
if left:
    sys.exit("still running: " + ", ".join(left))
EOF
python3 - "$OFF" <<'EOF' || fail "ports still in use after SIGTERM"
import socket, sys
off = int(sys.argv[1])
ports = [b + off + i for b in (16380, 17380, 11080, 19000) for i in range(4)] + [18080 + off, 8080 + off]
ports += [20000 + off + i for i in range(5)]
busy = []
for p in ports:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        busy.append(p)
    finally:
        s.close()
if busy:
    sys.exit("busy: %s" % busy)
EOF
log "PASS"
