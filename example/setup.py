#!/usr/bin/env python3
"""Start a local Codis cluster from the binaries in ../bin (make demo).

Layout (all on 127.0.0.1, every port shifted by --port-offset):

  codis-server masters   16380-16383   (groups 1-4)
  codis-server replicas  17380-17383   (one per group)
  codis-dashboard        18080
  codis-proxy admin      11080-11083
  codis-proxy clients    19000-19003
  codis-fe (web UI)      8080          (http://127.0.0.1:8080/)
  redis-sentinel         20000-20004   (watch the 4 groups, fail masters over)

Every generated config, log file and data directory lives in one run directory
(default: <tmp>/codis-demo-<uid>-<port of the dashboard>) next to a state file
listing the processes. Ctrl-C or SIGTERM stops every process and removes the run
directory. --background starts the cluster, prints it and exits, leaving the
processes running; --stop stops a cluster started earlier (in either mode).
A second run stops what a previous run left behind before starting again.

Standard library only.
"""

import argparse
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ next to the script
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402  (helper next to this script)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Start a local Codis cluster (4 groups, dashboard, 4 proxies, web UI, 5 sentinels).")
    p.add_argument("--coordinator", choices=["fs", "filesystem", "zookeeper", "zk", "etcd"],
                   default="fs", help="topology store (default: fs, a directory in the run dir)")
    p.add_argument("--coordinator-addr", default="",
                   help="ZooKeeper or etcd address list (default 127.0.0.1:2181 / "
                        "http://127.0.0.1:2379); fs: root directory (default <run dir>/rootfs)")
    p.add_argument("--product", default="codis-demo", help="product name (default codis-demo)")
    p.add_argument("--port-offset", type=int, default=0,
                   help="add this number to every port (to run beside another cluster)")
    p.add_argument("--run-dir", default="",
                   help="directory for configs, logs, data and the state file "
                        "(default <tmp>/codis-demo-<uid>-<dashboard port>)")
    p.add_argument("--no-sentinels", action="store_true",
                   help="start no redis-sentinel (to replace failed masters by hand, or with codis-ha)")
    p.add_argument("--bin-dir", default="",
                   help="directory holding codis-server etc. (default ../bin next to this script)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--background", action="store_true",
                      help="start, print the cluster and exit, leaving it running")
    mode.add_argument("--stop", action="store_true",
                      help="stop the cluster of this run dir / port offset and remove its files")
    mode.add_argument("--status", action="store_true",
                      help="exit 0 if the cluster of this run dir is fully up, else 1")
    p.add_argument("--keep", action="store_true",
                   help="keep the run directory (logs, data) when stopping")
    args = p.parse_args(argv)
    if args.coordinator in ("filesystem",):
        args.coordinator = "fs"
    if args.coordinator == "zk":
        args.coordinator = "zookeeper"
    if not cluster.PRODUCT_RE.match(args.product):
        p.error("invalid --product %r: must match %s" % (args.product, cluster.PRODUCT_RE.pattern))
    if not (-10000 <= args.port_offset <= 40000):
        p.error("--port-offset out of range")
    return args


def main(argv):
    args = parse_args(argv)
    layout = cluster.Layout(args)
    log = cluster.say

    if args.stop:
        ok = cluster.stop_from_state(layout.run_dir, keep=args.keep)
        return 0 if ok else 1
    if args.status:
        problems = cluster.status_from_state(layout.run_dir)
        for line in problems:
            log(line)
        if not problems:
            log("cluster in %s is up" % layout.run_dir)
        return 1 if problems else 0

    demo = cluster.Cluster(layout, keep=args.keep)

    stopping = {"signal": None}

    def on_signal(signum, _frame):
        # Raise into the main flow so that every step unwinds through the
        # cleanup below; a second signal while stopping is ignored.
        if stopping["signal"] is None:
            stopping["signal"] = signum
            raise KeyboardInterrupt()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        demo.start()
    except KeyboardInterrupt:
        log("interrupted while starting; stopping")
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        demo.stop()
        return 130
    except (cluster.SetupError, OSError) as e:
        log("ERROR: %s" % e)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        demo.stop(failed=True)
        return 1

    try:
        demo.print_summary(background=args.background)
        if args.background:
            return 0
        # A process that exits is reported once and the others keep
        # running: stopping a master is how a failover is tried out.
        reported = set()
        while True:
            for proc in demo.dead_processes():
                if proc.name not in reported:
                    reported.add(proc.name)
                    log("WARNING: %s (pid %d) %s; the rest of the cluster keeps running "
                        "(Ctrl-C stops it)" % (proc.name, proc.pid, proc.exit_text()))
                    cluster.print_log_tail(proc.log, lines=5)
            time.sleep(1)
    except KeyboardInterrupt:
        log("stopping (%s)" % signal.Signals(stopping["signal"] or signal.SIGINT).name)
        rc = 0
    except cluster.SetupError as e:
        log("ERROR: %s" % e)
        rc = 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    demo.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
