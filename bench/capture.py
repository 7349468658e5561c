"""freshmock's capture benchmark: what recording costs, against bare mitmproxy.

    make bench                                   # full run, refreshes docs/performance.md
    make bench BENCH_ARGS=--quick                # short run for development, prints only
    make bench BENCH_ARGS="--soak 600"           # full run plus a 10-minute RSS soak

On 127.0.0.1, in front of a local nginx, the same wrk load runs against each
configuration in proxies.CONFIGS, for a small JSON body and a ~50 KB JSON body
sent gzip-compressed, over several rounds in rotating order. Then freshmock
record takes a fixed 300 req/s for 60 s (every request must be recorded), and
optionally a long soak while its memory is sampled. Installs nginx and wrk
with apt-get when they are missing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import proctree
import proxies
import report
import worker_cost
from backend import Nginx, Payload, check_payloads
from loadgen import open_loop, run_wrk
from results import Measurement, OpenLoopCheck, Run
from tooling import ToolError, ensure_tools, loadavg, machine_info

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark freshmock record against bare mitmdump on 127.0.0.1.")
    parser.add_argument("--quick", action="store_true",
                        help="1 round of 3 s, a 10 s sustained check; prints, writes no file "
                             "unless --out is given")
    parser.add_argument("--soak", type=float, default=0, metavar="SECONDS",
                        help="also run freshmock record under steady load this long, "
                             "sampling its RSS every 10 s (default: off)")
    parser.add_argument("--rounds", type=int, help="rounds over all configurations (3)")
    parser.add_argument("--duration", type=float, help="measured seconds per run (10)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each run (2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--rate", type=float, default=300, help="sustained check: req/s (300)")
    parser.add_argument("--sustained-seconds", type=float, help="sustained check: seconds (60)")
    parser.add_argument("--soak-rate", type=float, default=100,
                        help="soak: req/s, alternating small and large (100)")
    parser.add_argument("--worker-bodies", type=int,
                        help="bodies per case for the worker's CPU per body (1000)")
    parser.add_argument("--configs", nargs="+", choices=proxies.CONFIGS, default=proxies.CONFIGS)
    parser.add_argument("--payloads", nargs="+", choices=["small", "large"],
                        default=["small", "large"])
    parser.add_argument("--out", type=Path,
                        help="report file (default: docs/performance.md; none with --quick)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (1 if quick else 3)
    args.duration = args.duration or (3 if quick else 10)
    args.warmup = args.warmup or (1 if quick else 2)
    args.sustained_seconds = args.sustained_seconds or (10 if quick else 60)
    args.worker_bodies = args.worker_bodies or (200 if quick else 1000)
    if args.out is None and not quick:
        args.out = REPO / "docs" / "performance.md"
    if proxies.REFERENCE not in args.configs:
        args.configs = [proxies.REFERENCE, *args.configs]  # ratios need the reference
    return args


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass
class Setup:
    """What every measurement shares."""

    args: argparse.Namespace
    nginx: Nginx
    wrk: str
    workdir: Path


def measure(setup: Setup, config: str, payload: Payload, round_no: int) -> Measurement:
    """Start ``config``, load it with wrk, read its process tree, stop it."""
    args, nginx = setup.args, setup.nginx
    result = Measurement(round_no, config, payload.name)
    tag = f"r{round_no}-{payload.name}-{config.replace(' ', '_')}"
    running = proxies.start(config, nginx.process.pid, nginx.port, setup.workdir, tag)
    sampler = proctree.TreeSampler(running.root_pid)
    try:
        check_payloads(HOST, running.port, nginx.payloads)  # bodies pass through unchanged
        sampler.start()
        url = f"http://{HOST}:{running.port}{payload.path}"
        run_wrk(setup.wrk, url, args.threads, args.connections, args.warmup, setup.workdir)
        proctree.wait_until_idle(running.root_pid)
        cpu_before = proctree.cpu_seconds(running.root_pid)
        others = proctree.ForeignLoad(nginx.process.pid, running.root_pid)
        load = run_wrk(setup.wrk, url, args.threads, args.connections, args.duration,
                       setup.workdir)
        proctree.wait_until_idle(running.root_pid)  # count work still queued behind the load
        cpu_after = proctree.cpu_seconds(running.root_pid)
        result.other_cores = others.cores()
        result.rps, result.p50_ms, result.p99_ms = load.rps, load.p50_ms, load.p99_ms
        result.p999_ms = load.p999_ms
        result.requests, result.errors = load.requests, load.errors
        result.cpu_ms = (cpu_after - cpu_before) * 1000 / max(1, load.requests)
        result.peak_rss_mb = sampler.peak_rss_kb() / 1024
        result.processes = sampler.processes()
    finally:
        sampler.stop()
        proxies.stop(running)
        result.exit_info = running.exit_info
        proxies.discard_files(running)
    return result


def run_rounds(setup: Setup) -> list[Measurement]:
    """Every configuration once per payload per round; the order rotates each round so
    that no configuration always runs first, last, or right after the same one."""
    args = setup.args
    measurements = []
    for round_no in range(1, args.rounds + 1):
        shift = (round_no - 1) % len(args.configs)
        order = args.configs[shift:] + args.configs[:shift]
        for payload_name in args.payloads:
            for config in order:
                payload = setup.nginx.payloads[payload_name]
                say(f"round {round_no}/{args.rounds}: {config}, {payload_name}")
                try:
                    m = measure(setup, config, payload, round_no)
                except (proxies.ProxyError, RuntimeError, OSError) as error:
                    m = Measurement(round_no, config, payload_name, failure=str(error)[:300])
                    say(f"  failed: {m.failure}")
                else:
                    say(f"  {m.rps:,.0f} req/s, {m.cpu_ms:.2f} CPU ms/req, p50 {m.p50_ms:.2f} ms, "
                        f"p99 {m.p99_ms:.2f} ms, p99.9 {m.p999_ms:.2f} ms, "
                        f"peak RSS {m.peak_rss_mb:.0f} MB"
                        + (f", dropped {m.exit_info.get('dropped')}"
                           if "dropped" in m.exit_info else "")
                        + (f", {m.errors} errors" if m.errors else ""))
                measurements.append(m)
    return measurements


def freshmock_stats(db: Path) -> dict | None:
    """``freshmock stats --db DB --json`` if this checkout has that command, else None."""
    exe = str(proxies.BIN / "freshmock")
    if subprocess.run([exe, "stats", "--help"], capture_output=True).returncode != 0:
        return None
    done = subprocess.run([exe, "stats", "--db", str(db), "--json"],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"error": "output is not JSON"}


def run_open_loop(setup: Setup, tag: str, paths: list[str], rate: float, seconds: float,
                  sample_every: float, config: str = proxies.RECORDER) -> OpenLoopCheck:
    """``config`` under a fixed request schedule; for freshmock every request must reach
    the store (bare mitmdump runs the same schedule as the latency reference)."""
    nginx = setup.nginx
    check = OpenLoopCheck(rate, seconds, paths, config)
    try:
        running = proxies.start(config, nginx.process.pid, nginx.port, setup.workdir, tag)
    except proxies.ProxyError as error:
        check.failure = str(error)[:300]
        return check
    sampler = proctree.TreeSampler(running.root_pid, interval=sample_every)
    try:
        check.probes = check_payloads(HOST, running.port, nginx.payloads)
        sampler.start()
        cpu_before, started = proctree.cpu_seconds(running.root_pid), time.monotonic()
        others = proctree.ForeignLoad(nginx.process.pid, running.root_pid)
        load = open_loop(HOST, running.port, paths, rate, seconds)
        proctree.wait_until_idle(running.root_pid)
        cpu_used = proctree.cpu_seconds(running.root_pid) - cpu_before
        check.other_cores = others.cores()
        check.cpu_share = cpu_used / (time.monotonic() - started)
        check.peak_rss_mb = sampler.peak_rss_kb() / 1024
        t0 = sampler.rss_series[0][0]
        check.rss_series_mb = [(t - t0, kb / 1024) for t, kb in sampler.rss_series]
        check.scheduled, check.sent, check.ok, check.failed = (
            load.scheduled, load.sent, load.ok, load.failed)
        check.achieved_rps = load.achieved_rps
        check.p50_ms, check.p99_ms = load.percentile_ms(50), load.percentile_ms(99)
        check.p999_ms = load.percentile_ms(99.9)
        check.max_ms, check.max_lag_ms = load.percentile_ms(100), load.max_lag * 1000
    except (RuntimeError, OSError) as error:
        check.failure = str(error)[:300]
    finally:
        sampler.stop()
        proxies.stop(running)
        check.exit_info = running.exit_info
    if proxies.is_recorder(config):
        check.stats = freshmock_stats(running.files["db"])
    proxies.discard_files(running)
    return check


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        tools = ensure_tools()
    except ToolError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    run = Run(
        started=datetime.datetime.now().astimezone(),
        machine=machine_info(tools, REPO),
        settings=args,
        load_before=loadavg(),
        cpu_before=proctree.machine_cpu_seconds(),
    )
    with tempfile.TemporaryDirectory(prefix="freshmock-bench-") as tmp:
        setup = Setup(args, Nginx(tools["nginx"], Path(tmp)), tools["wrk"], Path(tmp))
        setup.nginx.start()
        try:
            run.payloads = setup.nginx.payloads
            run.measurements = run_rounds(setup)
            say(f"sustained: bare mitmdump at {args.rate:g} req/s for "
                f"{args.sustained_seconds:g} s (the latency reference)")
            run.sustained_reference = run_open_loop(
                setup, "sustained-ref", [run.payloads["large"].path],
                args.rate, args.sustained_seconds, sample_every=1.0, config=proxies.REFERENCE)
            say(f"sustained: freshmock record at {args.rate:g} req/s for "
                f"{args.sustained_seconds:g} s")
            run.sustained = run_open_loop(
                setup, "sustained", [run.payloads["large"].path],
                args.rate, args.sustained_seconds, sample_every=1.0)
            if args.soak:
                say(f"soak: freshmock record at {args.soak_rate:g} req/s for {args.soak:g} s")
                run.soak = run_open_loop(
                    setup, "soak", [p.path for p in run.payloads.values()],
                    args.soak_rate, args.soak, sample_every=10.0)
        finally:
            setup.nginx.stop()
    say("worker CPU per body (in-process, process_time)")
    run.worker_costs = worker_cost.measure(args.worker_bodies)
    run.finished = datetime.datetime.now().astimezone()
    run.load_after = loadavg()
    run.cpu_after = proctree.machine_cpu_seconds()
    run.own_cpu = sum(os.times()[:4])  # this process and its reaped children: nginx, wrk, proxies
    print(report.stdout_tables(run))
    if args.out:
        command = "make bench" + (f' BENCH_ARGS="{shlex.join(argv or sys.argv[1:])}"'
                                  if (argv or sys.argv[1:]) else "")
        report.write_section(report.render(run, command), args.out)
        say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
