"""Helpers behind example/setup.py: layout, config files, processes, state file.

Standard library only. Nothing here is meant to be imported by anything but
setup.py (and the smoke test, which only runs setup.py).
"""

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PRODUCT_RE = re.compile(r"^\w[\w.\-]*$")
STATE_FILE = "state.json"
STATE_VERSION = 1
NUM_GROUPS = 4
NUM_PROXIES = 4
NUM_SLOTS = 1024

MASTER_PORT = 16380
REPLICA_PORT = 17380
DASHBOARD_PORT = 18080
FE_PORT = 8080
PROXY_ADMIN_PORT = 11080
PROXY_PORT = 19000
SENTINEL_PORT = 20000
NUM_SENTINELS = 5
# redis-sentinel from Debian's redis-sentinel package: codis-server has no
# sentinel mode.
SENTINEL_BINARY = "redis-sentinel"

START_TIMEOUT = 30.0   # seconds for one process to answer
ONLINE_TIMEOUT = 60.0  # seconds for a proxy to be online with slots filled
STOP_TIMEOUT = 10.0    # seconds between SIGTERM and SIGKILL
ADMIN_TIMEOUT = 60.0   # seconds for one codis-admin call


class SetupError(Exception):
    """A step of bringing the cluster up (or down) failed."""


def say(msg):
    sys.stdout.write("[setup] %s\n" % msg)
    sys.stdout.flush()


def print_log_tail(path, lines=30):
    """Print the last lines of a process log (best effort)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            data = f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        say("(cannot read %s: %s)" % (path, e.strerror))
        return
    say("---- last %d lines of %s ----" % (min(lines, len(data)), path))
    for line in data[-lines:]:
        sys.stdout.write("    %s\n" % line)
    say("---- end of %s ----" % os.path.basename(path))
    sys.stdout.flush()


# --------------------------------------------------------------------------
# Layout: where everything goes.


class Layout:
    def __init__(self, args):
        here = os.path.dirname(os.path.abspath(__file__))
        if args.bin_dir:
            self.bin_dir = os.path.abspath(args.bin_dir)
        else:
            self.bin_dir = os.path.normpath(os.path.join(here, "..", "bin"))
        off = args.port_offset
        self.master_ports = [MASTER_PORT + off + i for i in range(NUM_GROUPS)]
        self.replica_ports = [REPLICA_PORT + off + i for i in range(NUM_GROUPS)]
        self.dashboard_port = DASHBOARD_PORT + off
        self.fe_port = FE_PORT + off
        self.proxy_admin_ports = [PROXY_ADMIN_PORT + off + i for i in range(NUM_PROXIES)]
        self.proxy_ports = [PROXY_PORT + off + i for i in range(NUM_PROXIES)]
        n = 0 if getattr(args, "no_sentinels", False) else NUM_SENTINELS
        self.sentinel_ports = [SENTINEL_PORT + off + i for i in range(n)]
        self.dashboard_addr = "127.0.0.1:%d" % self.dashboard_port
        self.fe_addr = "127.0.0.1:%d" % self.fe_port
        self.assets_dir = os.path.normpath(os.path.join(here, "..", "cmd", "fe", "assets"))
        if args.run_dir:
            self.run_dir = os.path.abspath(args.run_dir)
        else:
            self.run_dir = os.path.join(tempfile.gettempdir(), "codis-demo-%d-%d" %
                                        (os.getuid(), self.dashboard_port))
        self.product = args.product
        self.coordinator = args.coordinator
        if self.coordinator == "fs":
            self.coordinator_addr = os.path.abspath(args.coordinator_addr) \
                if args.coordinator_addr else os.path.join(self.run_dir, "rootfs")
        elif self.coordinator == "zookeeper":
            self.coordinator_addr = args.coordinator_addr or "127.0.0.1:2181"
        else:
            self.coordinator_addr = args.coordinator_addr or "http://127.0.0.1:2379"

    def store_is_external(self):
        """True when the topology outlives the run dir (ZooKeeper, etcd, or a
        filesystem root given with --coordinator-addr)."""
        if self.coordinator != "fs":
            return True
        return not self.coordinator_addr.startswith(self.run_dir + os.sep)

    def binary(self, name):
        return os.path.join(self.bin_dir, "codis-" + name)

    def all_ports(self):
        return (self.master_ports + self.replica_ports + [self.dashboard_port] +
                self.proxy_admin_ports + self.proxy_ports + [self.fe_port] +
                self.sentinel_ports)

    def sentinel_binary(self):
        return shutil.which(SENTINEL_BINARY) or os.path.join("/usr/bin", SENTINEL_BINARY)

    def script(self, name):
        """Path of a sentinel script the dashboard configures (conf dir)."""
        return os.path.join(self.run_dir, "conf", name)

    def coordinator_flag(self):
        """codis-admin / codis-proxy flag selecting the coordinator."""
        name = {"fs": "filesystem", "zookeeper": "zookeeper", "etcd": "etcd"}[self.coordinator]
        return "--%s=%s" % (name, self.coordinator_addr)


# --------------------------------------------------------------------------
# Processes and the state file.


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        return data[data.rindex(")") + 2] in "ZX"
    except (OSError, ValueError, IndexError):
        return True


def pid_matches(pid, exe):
    """True when pid is alive and still runs exe (guards against pid reuse)."""
    if pid <= 0:
        return False
    argv = _cmdline(pid)
    if not argv or _is_zombie(pid):
        return False
    if argv[0] == exe:
        return True
    # redis-sentinel rewrites its command line ("redis-sentinel
    # 127.0.0.1:20000 [sentinel]"): compare the executable itself.
    try:
        return os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(exe)
    except OSError:
        return False


class Proc:
    """One process of the cluster (started by us, or found in a state file)."""

    def __init__(self, name, argv, log, ports, popen=None, pid=0):
        self.name = name
        self.argv = argv
        self.log = log
        self.ports = ports
        self.popen = popen
        self.pid = popen.pid if popen else pid

    def alive(self):
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_matches(self.pid, self.argv[0])

    def returncode(self):
        return self.popen.poll() if self.popen is not None else None

    def exit_text(self):
        """'exited with status N' / 'was killed by SIGX' / 'exited'."""
        code = self.returncode()
        if code is None:
            return "exited"
        if code < 0:
            try:
                return "was killed by %s" % signal.Signals(-code).name
            except ValueError:
                return "was killed by signal %d" % -code
        return "exited with status %d" % code

    def to_json(self):
        return {"name": self.name, "pid": self.pid, "argv": self.argv,
                "log": self.log, "ports": self.ports}

    @staticmethod
    def from_json(d):
        return Proc(d["name"], list(d["argv"]), d.get("log", ""), list(d.get("ports", [])),
                    pid=int(d["pid"]))


def signal_and_wait(procs, timeout=STOP_TIMEOUT):
    """SIGTERM every live process, wait, SIGKILL what is left. Returns names still alive."""
    live = [p for p in procs if p.alive()]
    for p in live:
        try:
            os.kill(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while time.time() < deadline:
        live = [p for p in live if p.alive()]
        if not live:
            return []
        time.sleep(0.1)
    for p in live:
        say("%s (pid %d) did not stop in %.0fs; killing it" % (p.name, p.pid, timeout))
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 5
    while time.time() < deadline:
        live = [p for p in live if p.alive()]
        if not live:
            return []
        time.sleep(0.1)
    return [p.name for p in live]


def read_state(run_dir):
    path = os.path.join(run_dir, STATE_FILE)
    try:
        with open(path) as f:
            state = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise SetupError("cannot read state file %s: %s" % (path, e))
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise SetupError("state file %s has an unknown format; remove %s by hand" %
                         (path, run_dir))
    return state


def write_state(run_dir, state):
    path = os.path.join(run_dir, STATE_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def stop_owner(state):
    """Stop a setup.py still running in the foreground for this run dir."""
    owner = int(state.get("owner_pid") or 0)
    if owner <= 0 or owner == os.getpid():
        return
    argv = _cmdline(owner)
    if not argv or _is_zombie(owner) or not any(a.endswith("setup.py") for a in argv):
        return
    say("stopping the previous setup.py (pid %d)" % owner)
    try:
        os.kill(owner, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + STOP_TIMEOUT + 10
    while time.time() < deadline:
        if _cmdline(owner) is None or _is_zombie(owner):
            return
        time.sleep(0.2)


def stop_from_state(run_dir, keep=False):
    """Stop the cluster recorded in run_dir and remove run_dir. True on success."""
    try:
        state = read_state(run_dir)
    except SetupError as e:
        say("ERROR: %s" % e)
        return False
    if state is None:
        say("nothing to stop: no %s in %s" % (STATE_FILE, run_dir))
        return True
    stop_owner(state)
    # The owner removes the run dir itself; re-read in case it is still there.
    try:
        state = read_state(run_dir)
    except SetupError as e:
        say("ERROR: %s" % e)
        return False
    if state is None:
        say("stopped")
        return True
    procs = [Proc.from_json(d) for d in state.get("processes", [])]
    if state.get("store_external"):
        teardown_store(state, procs)
    left = signal_and_wait(order_for_stop(procs))
    if left:
        say("ERROR: still running: %s" % ", ".join(left))
        return False
    if keep:
        say("stopped; kept %s" % run_dir)
    else:
        remove_run_dir(run_dir)
        say("stopped; removed %s" % run_dir)
    return True


def status_from_state(run_dir):
    """Problems with the cluster recorded in run_dir (empty list = all up)."""
    try:
        state = read_state(run_dir)
    except SetupError as e:
        return [str(e)]
    if state is None:
        return ["no cluster: no %s in %s" % (STATE_FILE, run_dir)]
    problems = []
    for d in state.get("processes", []):
        p = Proc.from_json(d)
        if not p.alive():
            problems.append("%s (pid %d) is not running" % (p.name, p.pid))
            continue
        for port in p.ports:
            if not port_answers(port):
                problems.append("%s (pid %d) does not answer on port %d" % (p.name, p.pid, port))
    if not state.get("ready"):
        problems.append("the cluster has not finished starting")
    return problems


def order_for_stop(procs):
    """The web UI, the proxies and the sentinels first (no failover while the
    servers stop), then the dashboard, then the servers."""
    rank = {"fe": 0, "proxy": 0, "sentinel": 0, "dashboard": 1, "server": 2}
    return sorted(procs, key=lambda p: rank.get(p.name.split("-")[0], 3))


def remove_run_dir(run_dir):
    """Remove a run dir, but only one that this script created."""
    if not os.path.isdir(run_dir):
        return
    if not os.path.exists(os.path.join(run_dir, STATE_FILE)):
        raise SetupError("%s exists but was not created by setup.py (no %s); "
                         "refusing to remove it" % (run_dir, STATE_FILE))
    shutil.rmtree(run_dir, ignore_errors=True)


def teardown_store(state, procs):
    """Best effort: empty the product in ZooKeeper/etcd through the dashboard,
    so that the next run starts from an empty product."""
    dash = state.get("dashboard_addr", "")
    admin = state.get("admin", "")
    dproc = [p for p in procs if p.name == "dashboard"]
    if not dash or not admin or not dproc or not dproc[0].alive():
        say("warning: the dashboard is not running; product %r stays in %s" %
            (state.get("product"), state.get("coordinator")))
        return

    def run(*args):
        try:
            subprocess.run([admin, "--dashboard=" + dash] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=ADMIN_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass

    for addr in state.get("proxy_admin_addrs", []):
        run("--remove-proxy", "--addr=" + addr, "--force")
    run("--slots-assign", "--beg=0", "--end=%d" % (NUM_SLOTS - 1), "--offline", "--confirm")
    for gid, servers in enumerate(state.get("groups", []), start=1):
        for addr in reversed(servers):
            run("--group-del", "--gid=%d" % gid, "--addr=" + addr)
        run("--remove-group", "--gid=%d" % gid)


# --------------------------------------------------------------------------
# Network probes.


def port_free(port):
    """True when 127.0.0.1:port can be bound (nothing listens on it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError as e:
        if e.errno in (errno.EADDRINUSE, errno.EACCES):
            return False
        raise
    finally:
        s.close()


def port_answers(port, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_command(port, *args, timeout=2.0):
    """Send one command over RESP and return the first reply line (str)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(out)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode("utf-8", "replace")


def http_json(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


# --------------------------------------------------------------------------
# Generated configuration.


def server_conf(port, data_dir):
    return "\n".join([
        "# generated by example/setup.py",
        "bind 127.0.0.1",
        "port %d" % port,
        "protected-mode no",
        "daemonize no",
        "logfile \"\"",
        "save \"\"",
        "dbfilename \"%d.rdb\"" % port,
        "dir \"%s\"" % data_dir,
        "",
    ])


def dashboard_toml(layout):
    coord = {"fs": "filesystem", "zookeeper": "zookeeper", "etcd": "etcd"}[layout.coordinator]
    return "\n".join([
        "# generated by example/setup.py",
        "coordinator_name = %s" % json.dumps(coord),
        "coordinator_addr = %s" % json.dumps(layout.coordinator_addr),
        "coordinator_auth = \"\"",
        "",
        "product_name = %s" % json.dumps(layout.product),
        "product_auth = \"\"",
        "",
        "admin_addr = %s" % json.dumps(layout.dashboard_addr),
        "",
        "migration_method = \"semi-async\"",
        "migration_parallel_slots = 100",
        "migration_async_maxbulks = 200",
        "migration_async_maxbytes = \"32mb\"",
        "migration_async_numkeys = 100",
        "migration_timeout = \"30s\"",
        "",
        "sentinel_client_timeout = \"10s\"",
        "sentinel_quorum = 2",
        "sentinel_parallel_syncs = 1",
        "sentinel_down_after = \"5s\"",
        "# 30s, not the original example's 10m: a failover attempt that fails (a",
        "# split vote among the sentinels) is retried after twice this time.",
        "sentinel_failover_timeout = \"30s\"",
        "sentinel_notification_script = %s" % json.dumps(layout.script("sentinel_notify.sh")),
        "sentinel_client_reconfig_script = %s" % json.dumps(layout.script("sentinel_reconfig.sh")),
        "",
    ])


def sentinel_conf(port, data_dir):
    return "\n".join([
        "# generated by example/setup.py; redis-sentinel rewrites this file",
        "bind 127.0.0.1",
        "port %d" % port,
        "protected-mode no",
        "daemonize no",
        "logfile \"\"",
        "dir \"%s\"" % data_dir,
        "# the dashboard sets the notification and reconfig scripts",
        "sentinel deny-scripts-reconfig no",
        "",
    ])


def sentinel_script(log_path):
    """A sentinel script that appends its arguments to log_path."""
    return "#!/bin/sh\necho \"$(date '+%%F %%T') $*\" >> %s\n" % json.dumps(log_path)


def proxy_toml(layout, i):
    return "\n".join([
        "# generated by example/setup.py",
        "product_name = %s" % json.dumps(layout.product),
        "product_auth = \"\"",
        "session_auth = \"\"",
        "",
        "admin_addr = \"127.0.0.1:%d\"" % layout.proxy_admin_ports[i],
        "proto_type = \"tcp4\"",
        "proxy_addr = \"127.0.0.1:%d\"" % layout.proxy_ports[i],
        "proxy_datacenter = \"localhost\"",
        "",
        "# small footprint for a demo on one machine",
        "proxy_max_clients = 1000",
        "proxy_heap_placeholder = \"0\"",
        "proxy_max_offheap_size = \"0\"",
        "backend_ping_period = \"5s\"",
        "session_max_pipeline = 10000",
        "",
    ])


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


# --------------------------------------------------------------------------
# The cluster.


class Cluster:
    def __init__(self, layout, keep=False):
        self.layout = layout
        self.keep = keep
        self.procs = []
        self.created_run_dir = False
        self.ready = False
        self.store_touched = False

    # -- state ---------------------------------------------------------------

    def state(self):
        l = self.layout
        return {
            "version": STATE_VERSION,
            "owner_pid": os.getpid(),
            "run_dir": l.run_dir,
            "product": l.product,
            "coordinator": l.coordinator,
            "coordinator_addr": l.coordinator_addr,
            "store_external": l.store_is_external(),
            "dashboard_addr": l.dashboard_addr,
            "admin": l.binary("admin"),
            "proxy_admin_addrs": ["127.0.0.1:%d" % p for p in l.proxy_admin_ports],
            "proxy_addrs": ["127.0.0.1:%d" % p for p in l.proxy_ports],
            "groups": [["127.0.0.1:%d" % m, "127.0.0.1:%d" % r]
                       for m, r in zip(l.master_ports, l.replica_ports)],
            "ready": self.ready,
            "processes": [p.to_json() for p in self.procs],
        }

    def save_state(self):
        write_state(self.layout.run_dir, self.state())

    # -- start ---------------------------------------------------------------

    def start(self):
        l = self.layout
        self.check_binaries()
        self.clean_previous_run()
        self.check_ports()
        os.makedirs(l.run_dir, exist_ok=False)
        self.created_run_dir = True
        self.save_state()
        for sub in ("conf", "log", "data"):
            os.makedirs(os.path.join(l.run_dir, sub))
        say("run directory %s" % l.run_dir)
        self.check_product_empty()

        # 1. codis-server: masters and replicas.
        for port in l.master_ports + l.replica_ports:
            self.start_server(port)
        for p in self.procs:
            self.wait_redis(p, p.ports[0])
        say("codis-server up on %s" % ", ".join(str(p) for p in l.master_ports + l.replica_ports))

        # 1b. redis-sentinel: the dashboard makes them watch every group
        # (step 3) and they fail a dead master over to its replica.
        for name in ("sentinel_notify", "sentinel_reconfig"):
            path = l.script(name + ".sh")
            write_file(path, sentinel_script(os.path.join(l.run_dir, "log", name + ".log")))
            os.chmod(path, 0o755)
        for port in l.sentinel_ports:
            self.start_sentinel(port)
        for p in self.procs:
            if p.name.startswith("sentinel-"):
                self.wait_redis(p, p.ports[0])
        if l.sentinel_ports:
            say("redis-sentinel up on %s" % ", ".join(str(p) for p in l.sentinel_ports))

        # 2. codis-dashboard.
        conf = os.path.join(l.run_dir, "conf", "dashboard.toml")
        write_file(conf, dashboard_toml(l))
        dash = self.spawn("dashboard", [l.binary("dashboard"), "--config=" + conf,
                                        "--log-level=INFO"], [l.dashboard_port])
        self.wait_dashboard(dash)
        self.store_touched = True
        say("codis-dashboard up on %s (%s coordinator at %s)" %
            (l.dashboard_addr, l.coordinator, l.coordinator_addr))

        # 2b. codis-fe, the web UI: it finds the dashboard through its lock
        # node in the coordinator.
        fe = self.spawn("fe", [l.binary("fe"), l.coordinator_flag(), "--listen=" + l.fe_addr,
                               "--assets-dir=" + l.assets_dir, "--log-level=INFO"], [l.fe_port])
        self.wait_fe(fe)
        say("codis-fe up on http://%s/" % l.fe_addr)

        # 3. groups, replication and slots, through codis-admin.
        for i in range(NUM_GROUPS):
            gid = i + 1
            master = "127.0.0.1:%d" % l.master_ports[i]
            replica = "127.0.0.1:%d" % l.replica_ports[i]
            self.admin("--create-group", "--gid=%d" % gid)
            self.admin("--group-add", "--gid=%d" % gid, "--addr=" + master,
                       "--datacenter=localhost")
            self.admin("--group-add", "--gid=%d" % gid, "--addr=" + replica,
                       "--datacenter=localhost")
            # The dashboard's sync action sends SLAVEOF (and CONFIG REWRITE)
            # to the replica; --resync-group only re-pushes the group's slots.
            self.admin("--sync-action", "--create", "--addr=" + replica)
            beg, end = i * NUM_SLOTS // NUM_GROUPS, (i + 1) * NUM_SLOTS // NUM_GROUPS - 1
            self.admin("--slots-assign", "--beg=%d" % beg, "--end=%d" % end,
                       "--gid=%d" % gid, "--confirm")
            self.admin("--resync-group", "--gid=%d" % gid)
            say("group %d: master %s, replica %s, slots %d-%d" % (gid, master, replica, beg, end))
        for port in l.sentinel_ports:
            self.admin("--sentinel-add", "--addr=127.0.0.1:%d" % port)
        self.admin("--slot-action", "--interval=0")
        if l.sentinel_ports:
            self.admin("--sentinel-resync")
            self.wait_sentinels()
            say("every sentinel watches the %d groups" % NUM_GROUPS)

        # 4. codis-proxy: they register with the dashboard themselves.
        for i in range(NUM_PROXIES):
            conf = os.path.join(l.run_dir, "conf", "proxy-%d.toml" % l.proxy_ports[i])
            write_file(conf, proxy_toml(l, i))
            self.spawn("proxy-%d" % l.proxy_ports[i],
                       [l.binary("proxy"), "--config=" + conf, "--log-level=INFO",
                        "--dashboard=" + l.dashboard_addr],
                       [l.proxy_admin_ports[i], l.proxy_ports[i]])
        for p in self.procs:
            if p.name.startswith("proxy-"):
                self.wait_proxy(p)
        say("codis-proxy online on %s" % ", ".join(str(p) for p in l.proxy_ports))

        # 5. replicas follow their masters.
        self.wait_replication()

        self.ready = True
        self.save_state()

    def check_binaries(self):
        for name in ("server", "dashboard", "proxy", "admin", "fe"):
            path = self.layout.binary(name)
            if not os.access(path, os.X_OK):
                raise SetupError("%s not found or not executable; run `make build` first "
                                 "(or pass --bin-dir)" % path)
        if self.layout.sentinel_ports and not os.access(self.layout.sentinel_binary(), os.X_OK):
            raise SetupError("%s not found; install Debian's redis-sentinel package "
                             "(make demo does)" % SENTINEL_BINARY)

    def clean_previous_run(self):
        """Stop what a previous run recorded in the same run dir and remove it."""
        run_dir = self.layout.run_dir
        if not os.path.exists(run_dir):
            return
        state = read_state(run_dir)
        if state is None:
            if os.path.isdir(run_dir) and not os.listdir(run_dir):
                os.rmdir(run_dir)
                return
            raise SetupError("%s exists and was not created by setup.py; remove it or "
                             "pass another --run-dir" % run_dir)
        say("found a previous run in %s; stopping it" % run_dir)
        if not stop_from_state(run_dir, keep=False):
            raise SetupError("could not stop the previous run in %s" % run_dir)

    def check_ports(self):
        busy = [p for p in self.layout.all_ports() if not port_free(p)]
        if busy:
            raise SetupError(
                "port%s %s on 127.0.0.1 %s in use by another program; stop it or pass "
                "--port-offset=N to move every port of the demo" %
                ("s" if len(busy) > 1 else "", ", ".join(str(p) for p in busy),
                 "are" if len(busy) > 1 else "is"))

    def check_product_empty(self):
        l = self.layout
        try:
            r = subprocess.run([l.binary("admin"), "--config-dump", "--product=" + l.product,
                                l.coordinator_flag()],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=ADMIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise SetupError("cannot reach %s at %s" % (l.coordinator, l.coordinator_addr))
        if r.returncode == 0:
            raise SetupError("product %r already has groups or proxies in %s at %s; pass "
                             "another --product or remove it" %
                             (l.product, l.coordinator, l.coordinator_addr))
        if "find product" not in r.stderr:
            raise SetupError("cannot read product %r from %s at %s: %s" %
                             (l.product, l.coordinator, l.coordinator_addr,
                              last_line(r.stderr)))

    def spawn(self, name, argv, ports):
        log = os.path.join(self.layout.run_dir, "log", name + ".log")
        f = open(log, "ab")
        try:
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                                     stderr=subprocess.STDOUT, cwd=self.layout.run_dir,
                                     start_new_session=True)
        except OSError as e:
            raise SetupError("cannot start %s: %s" % (argv[0], e))
        finally:
            f.close()
        p = Proc(name, argv, log, ports, popen=popen)
        self.procs.append(p)
        self.save_state()
        return p

    def start_server(self, port):
        l = self.layout
        data = os.path.join(l.run_dir, "data", str(port))
        os.makedirs(data)
        conf = os.path.join(l.run_dir, "conf", "server-%d.conf" % port)
        write_file(conf, server_conf(port, data))
        self.spawn("server-%d" % port, [l.binary("server"), conf], [port])

    def start_sentinel(self, port):
        l = self.layout
        data = os.path.join(l.run_dir, "data", "sentinel-%d" % port)
        os.makedirs(data)
        conf = os.path.join(l.run_dir, "conf", "sentinel-%d.conf" % port)
        write_file(conf, sentinel_conf(port, data))
        self.spawn("sentinel-%d" % port, [l.sentinel_binary(), conf], [port])

    def fail(self, proc, what):
        if proc is not None:
            if proc.returncode() is not None:
                what += " (it %s)" % proc.exit_text()
            print_log_tail(proc.log)
        raise SetupError(what)

    def wait(self, proc, what, check, timeout=START_TIMEOUT):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if not proc.alive():
                self.fail(proc, "%s (pid %d) exited while %s" % (proc.name, proc.pid, what))
            try:
                if check():
                    return
            except (OSError, ValueError, urllib.error.URLError) as e:
                last = e
            time.sleep(0.1)
        self.fail(proc, "%s (pid %d): timed out after %.0fs %s%s" %
                  (proc.name, proc.pid, timeout, what, " (%s)" % last if last else ""))

    def wait_redis(self, proc, port):
        self.wait(proc, "waiting for PING on port %d" % port,
                  lambda: redis_command(port, "PING") == "+PONG")

    def wait_dashboard(self, proc):
        url = "http://%s/topom" % self.layout.dashboard_addr

        def ok():
            doc = http_json(url)
            return doc.get("model", {}).get("product_name") == self.layout.product
        self.wait(proc, "waiting for the dashboard at %s" % url, ok)

    def wait_fe(self, proc):
        url = "http://%s/list" % self.layout.fe_addr

        def ok():
            return self.layout.product in http_json(url)
        # codis-fe rebuilds its product list at most every 5 s.
        self.wait(proc, "waiting for the product in %s" % url, ok)

    def wait_proxy(self, proc):
        admin_port, port = proc.ports
        url = "http://127.0.0.1:%d/proxy" % admin_port

        def ok():
            doc = http_json(url)
            if not doc.get("stats", {}).get("online"):
                return False
            slots = doc.get("slots") or []
            if len(slots) != NUM_SLOTS or any(not s.get("backend_addr") for s in slots):
                return False
            return redis_command(port, "PING") == "+PONG"
        self.wait(proc, "waiting for the proxy to be online with all slots", ok,
                  timeout=ONLINE_TIMEOUT)

    def wait_sentinels(self):
        """Wait until every sentinel watches every group's master."""
        l = self.layout
        want = {"%s-%d" % (l.product, i + 1): "127.0.0.1:%d" % l.master_ports[i]
                for i in range(NUM_GROUPS)}
        for port in l.sentinel_ports:
            proc = [p for p in self.procs if p.name == "sentinel-%d" % port][0]

            def ok(port=port):
                info = redis_info(port, "sentinel")
                got = {}
                for k, v in info.items():
                    if re.match(r"^master\d+$", k):
                        f = dict(kv.split("=", 1) for kv in v.split(",") if "=" in kv)
                        got[f.get("name")] = f.get("address")
                return all(got.get(n) == a for n, a in want.items())
            self.wait(proc, "waiting for sentinel %d to watch the groups" % port, ok)

    def wait_replication(self):
        """Wait until every replica reports its master in INFO replication."""
        l = self.layout
        for m, r in zip(l.master_ports, l.replica_ports):
            proc = [p for p in self.procs if p.name == "server-%d" % r][0]

            def ok(r=r, m=m):
                info = redis_info(r, "replication")
                return (info.get("role") in ("slave", "replica") and
                        info.get("master_port") == str(m))
            self.wait(proc, "waiting for port %d to replicate from %d" % (r, m), ok)

    def admin(self, *args):
        l = self.layout
        argv = [l.binary("admin"), "--dashboard=" + l.dashboard_addr] + list(args)
        log = os.path.join(l.run_dir, "log", "admin.log")
        with open(log, "a") as f:
            f.write("$ %s\n" % " ".join(argv[1:]))
            f.flush()
            try:
                r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=f,
                                   stderr=subprocess.PIPE, text=True, timeout=ADMIN_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise SetupError("codis-admin %s timed out" % " ".join(args))
            f.write(r.stderr)
        if r.returncode != 0:
            dash = [p for p in self.procs if p.name == "dashboard"]
            say("ERROR: codis-admin %s failed:" % " ".join(args))
            for line in r.stderr.strip().splitlines()[-10:]:
                sys.stdout.write("    %s\n" % line)
            if dash:
                print_log_tail(dash[0].log, 15)
            raise SetupError("codis-admin %s failed (status %d)" %
                             (" ".join(args), r.returncode))

    # -- running -------------------------------------------------------------

    def dead_processes(self):
        return [p for p in self.procs if not p.alive()]

    def print_summary(self, background):
        l = self.layout
        out = sys.stdout
        out.write("\n")
        out.write("Codis demo cluster %r is up (%s coordinator at %s)\n\n" %
                  (l.product, l.coordinator, l.coordinator_addr))
        out.write("  %-32s %-8s %s\n" % ("process", "pid", "address"))
        for p in self.procs:
            if p.name.startswith("proxy-"):
                addr = "127.0.0.1:%d (admin 127.0.0.1:%d)" % (p.ports[1], p.ports[0])
            else:
                addr = "127.0.0.1:%d" % p.ports[0]
            role = p.name
            if p.name.startswith("server-"):
                port = p.ports[0]
                if port in l.master_ports:
                    role += " (group %d master)" % (l.master_ports.index(port) + 1)
                else:
                    role += " (group %d replica)" % (l.replica_ports.index(port) + 1)
            out.write("  %-32s %-8d %s\n" % (role, p.pid, addr))
        out.write("\n")
        out.write("  run directory:  %s  (configs in conf/, logs in log/)\n" % l.run_dir)
        out.write("\n")
        out.write("  web UI:         http://%s/#%s\n" % (l.fe_addr, l.product))
        out.write("\n")
        out.write("Connect:\n")
        out.write("  redis-cli -p %d\n" % l.proxy_ports[0])
        out.write("  %s --dashboard=%s --slots-status\n" % (l.binary("admin"), l.dashboard_addr))
        out.write("  %s --dashboard=%s --group-status\n" % (l.binary("admin"), l.dashboard_addr))
        out.write("  %s --dashboard=%s --proxy-status\n" % (l.binary("admin"), l.dashboard_addr))
        out.write("\n")
        here = os.path.dirname(os.path.abspath(__file__))
        stop = "python3 %s --stop%s" % (os.path.join(here, "setup.py"),
                                        " --port-offset=%d" % (l.dashboard_port - DASHBOARD_PORT)
                                        if l.dashboard_port != DASHBOARD_PORT else "")
        if background:
            out.write("Running in the background; stop it with:\n  %s\n" % stop)
        else:
            out.write("Press Ctrl-C to stop every process and remove %s.\n" % l.run_dir)
        out.flush()

    # -- stop ----------------------------------------------------------------

    def stop(self, failed=False):
        """Stop every process we started; remove the run dir unless the start
        failed (then it is kept for inspection) or --keep was given."""
        l = self.layout
        if not self.created_run_dir:
            return
        if self.store_touched and l.store_is_external():
            teardown_store(self.state(), self.procs)
        left = signal_and_wait(order_for_stop(self.procs))
        if left:
            say("ERROR: still running: %s" % ", ".join(left))
            self.save_state()
            return
        if self.keep or failed:
            if not self.keep:
                say("kept %s for inspection; the next run removes it" % l.run_dir)
            self.procs = []
            self.save_state()
            return
        remove_run_dir(l.run_dir)
        say("stopped every process and removed %s" % l.run_dir)


def redis_info(port, section):
    """INFO <section> as a dict (small replies only)."""
    args = ("INFO", section)
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a.encode())
    with socket.create_connection(("127.0.0.1", port), timeout=2.0) as s:
        s.sendall(out)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n")
            if sep and head.startswith(b"$"):
                n = int(head[1:])
                if n < 0 or len(rest) >= n + 2:
                    break
            elif sep:
                break
    head, _, rest = data.partition(b"\r\n")
    if not head.startswith(b"$"):
        raise ValueError("INFO on port %d: %s" % (port, head.decode("utf-8", "replace")))
    info = {}
    for line in rest.decode("utf-8", "replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            info[k] = v
    return info


def last_line(text):
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1] if lines else ""
