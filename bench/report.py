"""The capture section of docs/performance.md: tables, ratios, the targets, a plain reading.

The section sits between two HTML comment markers, so other benchmarks can
keep their own sections in the same file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from doc_section import replace_section
from proxies import CONFIGS, RECORDER, RECORDER_X2, REFERENCE, is_recorder
from results import (
    OpenLoopCheck,
    Run,
    drop_reasons,
    drop_share,
    median,
    medians,
    round_ratios,
    rss_flatness,
)

START, END = "<!-- capture benchmark: start -->", "<!-- capture benchmark: end -->"
SOAK_TARGET_S = 600
SOAK_FLAT_PCT = 5.0  # late vs early RSS growth still called flat
SHARED_CORES = 0.1  # other processes using more than this on average: machine was shared


def fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def count(value: int | None) -> str:
    """An integer with thousands separators; a counter that was never reported as "–"."""
    return "–" if value is None else f"{value:,}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def configs_of(run: Run) -> list[str]:
    present = {m.config for m in run.measurements}
    return [c for c in CONFIGS if c in present]


def _notes(run: Run, config: str, payload: str) -> str:
    runs = [m for m in run.measurements if m.config == config and m.payload == payload]
    failed = [m for m in runs if m.failure]
    notes = [f"{len(failed)} of {len(runs)} runs failed: {failed[0].failure}"] if failed else []
    ok = [m for m in runs if not m.failure]
    if is_recorder(config) and ok:
        total = {key: sum(m.exit_info.get(key, 0) for m in ok)
                 for key in ("recorded", "dropped", "lost")}
        notes.append(f"{total['recorded']:,} recorded, {total['dropped']:,} dropped, "
                     f"{total['lost']:,} lost (exit line, all rounds)")
    if config == "mitmdump -w" and ok:
        sizes = [m.exit_info.get("flow_file_bytes", 0) for m in ok]
        notes.append(f"flow file {max(sizes) / 2**20:.0f} MB")
    if config == "direct":
        notes.append("CPU and RSS are nginx's")
    return "; ".join(notes)


def results_table(run: Run, payload: str) -> str:
    rows = []
    for config in configs_of(run):
        s = medians(run.measurements, config, payload)
        rows.append([config, fmt(s["rps"], 0), fmt(s["cpu_ms"], 3), fmt(s["p50_ms"]),
                     f"**{fmt(s['p99_ms'])}**", f"**{fmt(s['p999_ms'])}**",
                     fmt(s["peak_rss_mb"], 0), str(s["errors"]), _notes(run, config, payload)])
    return table(["configuration", "req/s", "CPU ms/req", "p50 ms", "p99 ms", "p99.9 ms",
                  "peak RSS MB", "errors", "notes"], rows)


def _ratio_cell(values: list[float]) -> str:
    if not values:
        return "–"
    middle = median(values)
    per_round = " / ".join(f"{v:.2f}" for v in values)
    return f"**{middle:.2f}×**" + (f" ({per_round})" if len(values) > 1 else "")


def ratios_table(run: Run, payload: str) -> str:
    rows = []
    for config in configs_of(run):
        if config == REFERENCE:
            continue
        rows.append([config] + [
            _ratio_cell(round_ratios(run.measurements, config, REFERENCE, payload, metric))
            for metric in ("rps", "cpu_ms", "p50_ms", "p99_ms", "p999_ms", "peak_rss_mb")
        ])
    return table(["vs bare mitmdump", "req/s", "CPU ms/req", "p50", "p99", "p99.9", "peak RSS"],
                 rows)


def _median_ratio(run: Run, payload: str, metric: str) -> float:
    return median(round_ratios(run.measurements, RECORDER, REFERENCE, payload, metric))


def _verdict(ok: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[ok]


def _ratio_target(run: Run, payload: str, metric: str, label: str, limit: float,
                  config: str = RECORDER, reference: str = REFERENCE) -> list[str]:
    ratio = median(round_ratios(run.measurements, config, reference, payload, metric))
    ok = None if math.isnan(ratio) else ratio <= limit
    return [f"{label} ({payload})", f"{fmt(ratio)}×", _verdict(ok)]


def target_rows(run: Run) -> list[list[str]]:
    """The targets of issue 18 first (tail, CPU, drops, scaling, memory), then the older ones."""
    rows = []
    payloads = [p for p in run.payloads if any(m.payload == p for m in run.measurements)]
    for payload in payloads:
        rows.append(_ratio_target(run, payload, "p99_ms",
                                  "p99 ≤ 1.2× bare mitmdump at full load", 1.2))
    s, ref = run.sustained, run.sustained_reference
    if s is not None and ref is not None and not s.failure and not ref.failure:
        ratio = s.p99_ms / ref.p99_ms if ref.p99_ms else math.nan
        rows.append([f"p99 ≤ 1.1× bare mitmdump, open loop {s.rate:g} req/s (large)",
                     f"{fmt(ratio)}× ({fmt(s.p99_ms)} vs {fmt(ref.p99_ms)} ms)",
                     _verdict(None if math.isnan(ratio) else ratio <= 1.1)])
    if "large" in payloads:
        rows.append(_ratio_target(run, "large", "cpu_ms",
                                  "CPU ms/request (whole tree) ≤ 1.3× bare mitmdump", 1.3))
    for payload in payloads:
        dropped, seen = drop_share(run.measurements, RECORDER, payload)
        ok = None if not seen else dropped == 0
        rows.append([f"0 dropped captures at full closed-loop load ({payload})",
                     f"{dropped:,} of {seen:,}", _verdict(ok)])
    if "small" in payloads:
        rows.append(_ratio_target(run, "small", "rps",
                                  "two processes ≥ 1.5× one process's throughput", math.inf,
                                  config=RECORDER_X2, reference=RECORDER)[:2]
                    + [_verdict(_at_least(run, "small", 1.5))])
    for payload in payloads:
        rows.append(_ratio_target(run, payload, "peak_rss_mb",
                                  "peak RSS ≤ 1.5× bare mitmdump", 1.5))
    for metric, label, good in (
        ("rps", "throughput ≥ 1.0× bare mitmdump", lambda r: r >= 1.0),
        ("p50_ms", "p50 latency no worse than bare mitmdump", lambda r: r <= 1.0),
    ):
        for payload in payloads:
            ratio = _median_ratio(run, payload, metric)
            ok = None if math.isnan(ratio) else good(ratio)
            verdict = _verdict(ok)
            dropped, seen = drop_share(run.measurements, RECORDER, payload)
            if ok and dropped:
                verdict += f", **but {dropped / seen:.0%} of captures dropped** in these runs"
            rows.append([f"{label} ({payload})", f"{ratio:.2f}×", verdict])
    if s is not None:
        rows.append([f"zero drops at a sustained {s.rate:g} req/s for {s.seconds:g} s",
                     _sustained_summary(s), _verdict(s.passed)])
    rows.append(["RSS flat over a 10-minute soak", *_soak_verdict(run.soak)])
    return rows


def _at_least(run: Run, payload: str, limit: float) -> bool | None:
    ratio = median(round_ratios(run.measurements, RECORDER_X2, RECORDER, payload, "rps"))
    return None if math.isnan(ratio) else ratio >= limit


def worker_cost_section(run: Run) -> str:
    if not run.worker_costs:
        return ""
    rows = [[c.payload, c.case, f"**{c.cpu_ms_per_body:.3f}**", f"{c.bodies:,}"]
            for c in run.worker_costs]
    return ("### The worker's CPU per body\n\n"
            "`proxy/worker.py` in-process on the two documents as nginx sends them, writing a "
            "real store, CPU by `time.process_time` (see `bench/worker_cost.py`). *kept*: budget "
            "0, every body decoded, redacted, hashed, stored. *sampled out, same bytes*: the "
            "budget spent and every body the bytes nginx serves (what the closed-loop runs "
            "cost). *sampled out, distinct bytes*: the budget spent, every body new values in "
            "the same shape (what a real API sends): decoded, parsed and shaped, never "
            "redacted.\n\n"
            + table(["payload", "case", "CPU ms per body", "bodies"], rows) + "\n")


def _sustained_summary(s: OpenLoopCheck) -> str:
    if s.failure:
        return f"failed to run: {s.failure}"
    share = f" ({s.dropped / s.expected_rows:.1%})" if s.dropped and s.expected_rows else ""
    return (f"{s.sent:,} sent (+{s.probes} probes), {s.ok:,} OK, {s.failed} failed; "
            f"{count(s.rows)} rows stored (expected {s.expected_rows:,}); "
            f"{count(s.dropped)} dropped{share}, {count(s.lost)} lost ({s.counters_from})")


def _soak_verdict(soak: OpenLoopCheck | None) -> list[str]:
    if soak is None:
        return ["not run in this refresh (`--soak 600`)", "not measured"]
    if soak.failure:
        return [f"failed to run: {soak.failure}", _verdict(False)]
    flat = rss_flatness(soak.rss_series_mb)
    if not flat:
        return ["too few samples", "not measured"]
    text = (f"{flat['early_mb']:.0f} → {flat['late_mb']:.0f} MB ({flat['growth_pct']:+.1f}%, "
            f"{flat['slope_mb_per_hour']:+.1f} MB/h) over {soak.seconds:g} s")
    ok = flat["growth_pct"] <= SOAK_FLAT_PCT
    if not soak.passed:
        return [text + f" — but the proxy did not record normally ({_sustained_summary(soak)})",
                "**not valid**"]
    if soak.seconds < SOAK_TARGET_S:
        return [text + f" — shorter than the {SOAK_TARGET_S} s target", _verdict(ok) + " (short)"]
    return [text, _verdict(ok)]


def open_loop_section(title: str, s: OpenLoopCheck, what: str) -> str:
    if s.failure:
        return f"### {title}\n\nFailed to run: {s.failure}\n"
    rows = [
        ["load", f"{s.rate:g} req/s for {s.seconds:g} s of {what}, open loop (fixed schedule), "
                 "16 keep-alive connections"],
        ["requests", f"{s.scheduled:,} scheduled, {s.sent:,} sent, {s.ok:,} OK (200), "
                     f"{s.failed} failed; achieved {s.achieved_rps:.1f} req/s"],
        ["latency from due time", f"p50 {fmt(s.p50_ms)} ms, **p99 {fmt(s.p99_ms)} ms**, "
                                  f"**p99.9 {fmt(s.p999_ms)} ms**, max {fmt(s.max_ms)} ms"],
        ["client's own lag", f"at most {fmt(s.max_lag_ms)} ms between due time and send"],
        ["store", f"{count(s.rows)} rows in `observations`; expected {s.expected_rows:,} "
                  f"({s.sent:,} + {s.probes} readiness probes)"],
        ["freshmock's counters", _counters(s)],
        ["CPU", f"{fmt(s.cpu_share * 100, 0)}% of one core (process tree, load + drain); "
                f"other processes on the machine meanwhile: {fmt(s.other_cores)} cores"],
        ["peak RSS", f"{fmt(s.peak_rss_mb, 0)} MB (VmHWM summed over the tree)"],
    ]
    if "stderr" in s.exit_info:
        rows.append(["its stderr (last lines)", f"`{s.exit_info['stderr']}`"])
    if s.stats is not None:
        rows.append(["`freshmock stats --json`", f"`{_short(s.stats)}`"])
    return f"### {title}\n\n" + table(["", ""], rows) + "\n"


def open_loop_reference_section(run: Run) -> str:
    ref = run.sustained_reference
    if ref is None:
        return ""
    if ref.failure:
        return f"### Sustained rate, bare mitmdump\n\nFailed to run: {ref.failure}\n"
    rows = [
        ["load", f"the same schedule: {ref.rate:g} req/s for {ref.seconds:g} s of `/large.json`"],
        ["requests", f"{ref.sent:,} sent, {ref.ok:,} OK (200), {ref.failed} failed"],
        ["latency from due time", f"p50 {fmt(ref.p50_ms)} ms, **p99 {fmt(ref.p99_ms)} ms**, "
                                  f"**p99.9 {fmt(ref.p999_ms)} ms**, max {fmt(ref.max_ms)} ms"],
        ["client's own lag", f"at most {fmt(ref.max_lag_ms)} ms"],
        ["CPU", f"{fmt(ref.cpu_share * 100, 0)}% of one core"],
        ["peak RSS", f"{fmt(ref.peak_rss_mb, 0)} MB"],
    ]
    return "### Sustained rate, bare mitmdump (the latency reference)\n\n" + table(
        ["", ""], rows) + "\n"


def _counters(s: OpenLoopCheck) -> str:
    text = (f"{count(s.exit_info.get('recorded'))} recorded, {count(s.dropped)} dropped, "
            f"{count(s.lost)} lost to errors ({s.counters_from})")
    return text + (f"; drops by reason: {_reasons(s)}" if _reasons(s) else "")


def _reasons(s: OpenLoopCheck) -> str:
    """``queue_bytes 11,156, ...`` from ``freshmock stats``, or empty."""
    reasons = drop_reasons(s.stats) if s.stats else {}
    return ", ".join(f"{k.removeprefix('dropped.')} {v:,}" for k, v in reasons.items() if v)


def _short(data, limit: int = 300) -> str:
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def soak_section(run: Run) -> str:
    soak = run.soak
    if soak is None:
        return ("### Soak\n\nNot run in this refresh. `make bench BENCH_ARGS=\"--soak 600\"` "
                "adds it: freshmock record under steady load while the RSS of its process tree "
                "is sampled every 10 s.\n")
    text = open_loop_section("Soak", soak, "small and large alternately")
    flat = rss_flatness(soak.rss_series_mb)
    if flat:
        text += (f"\nRSS (VmRSS summed over the tree), sampled every 10 s: "
                 f"min {flat['min_mb']:.0f} MB, max {flat['max_mb']:.0f} MB; median of the "
                 f"early fifth after the first minute {flat['early_mb']:.0f} MB, "
                 f"of the last fifth {flat['late_mb']:.0f} MB "
                 f"({flat['growth_pct']:+.1f}%); least-squares slope "
                 f"{flat['slope_mb_per_hour']:+.1f} MB/hour. Called flat when growth ≤ "
                 f"{SOAK_FLAT_PCT:g}%.\n\n<details><summary>samples (s: MB)</summary>\n\n"
                 + ", ".join(f"{t:.0f}: {mb:.1f}" for t, mb in soak.rss_series_mb)
                 + "\n\n</details>\n")
    return text


def machine_section(run: Run) -> str:
    m = run.machine
    others = run.other_cores
    rows = [
        ["CPUs (nproc)", m["nproc"]], ["CPU model", m["cpu"]], ["kernel", m["kernel"]],
        ["Python", m["python"]], ["mitmproxy", m["mitmproxy"]], ["nginx", m["nginx"]],
        ["wrk", m["wrk"]], ["freshmock revision", m["freshmock"]],
        ["load average (1/5/15 min)", f"before {run.load_before}; after {run.load_after}"],
        ["CPU used by other processes", f"{others:.2f} cores on average during the run"],
    ]
    text = "### Machine\n\n" + table(["", ""], rows) + "\n"
    if others > SHARED_CORES:
        text += (f"\n**The machine was shared while these numbers were taken**: processes outside "
                 f"the benchmark used {others:.2f} of {m['nproc']} cores on average. Absolute "
                 "numbers are lower and noisier than on a quiet machine; the ratios, measured in "
                 "the same rounds, are the figures to compare.\n")
    return text


def method_section(run: Run) -> str:
    a = run.settings
    payloads = run.payloads
    small, large = payloads.get("small"), payloads.get("large")
    return f"""### Method

- **Backend**: nginx from the distribution's packages on 127.0.0.1 (generated config in a temp
  folder, 1 worker, `access_log off`, keep-alive). `/small.json`: {small.body_bytes} B of JSON.
  `/large.json`: {large.body_bytes:,} B of JSON sent as {large.wire_bytes:,} B of gzip
  (`gzip_static always` on a pre-compressed copy, `Content-Encoding: gzip`). Before each run a
  probe through the configuration checks both bodies arrive byte for byte, the large one gzip.
- **Configurations** (P = nginx's port, LP = a free port), all started fresh for every run and
  stopped with SIGTERM:
  - direct: the load goes to nginx itself;
  - mitmdump: `mitmdump -q --listen-host 127.0.0.1 --mode reverse:http://127.0.0.1:P@LP`;
  - mitmdump -w: the same plus `-w FILE`;
  - freshmock record: `freshmock record --upstream http://127.0.0.1:P --listen-port LP --db FILE`
    (default redaction; it connects upstream lazily, mitmdump eagerly);
  - freshmock record ×2: the same with `--processes 2` (two sidecar processes on LP with
    SO_REUSEPORT, each with its worker, one store); compared with freshmock record.
- **Load**: `wrk -t{a.threads} -c{a.connections} -d{a.duration:g}s --latency --timeout 10s
  -H 'Accept-Encoding: gzip'` (closed loop, keep-alive), after an unmeasured
  {a.warmup:g} s wrk run on the same proxy. {a.rounds} round(s); within a round each payload
  goes through every configuration, in an order rotated by one each round.
- **req/s, p50, p99, p99.9**: wrk's (completed requests ÷ duration; latency percentiles).
- **CPU ms/req**: CPU time (utime+stime, plus cutime+cstime of reaped children) summed over the
  process tree started for the configuration, read from `/proc` just before the measured wrk
  run and again once the tree is idle after it (so work queued behind the load is counted),
  ÷ completed requests. For direct it is nginx's master and worker.
- **peak RSS**: VmHWM of every process seen in the tree (sampled every second), summed.
- **Tables**: median over rounds. **Ratios**: computed per round against bare mitmdump in that
  same round, median shown in bold, each round's value in brackets.
- **Sustained rate**: `freshmock record` alone, {a.rate:g} req/s of `/large.json` for
  {a.sustained_seconds:g} s from an asyncio client on a fixed schedule over 16 keep-alive
  connections (open loop: latency counts from when each request was due). Passes when every
  request got a 200, freshmock reports 0 dropped and 0 lost, and `observations` holds exactly
  one row per request sent (plus the readiness probes). Bare mitmdump runs the same schedule
  first: its p99 is the reference for the open-loop latency target.
- **Soak** (`--soak SECONDS`): the same client at {a.soak_rate:g} req/s alternating both
  documents, VmRSS of the tree sampled every 10 s.
"""


def _processes(run: Run, payload: str) -> str:
    counts = {m.processes for m in run.measurements
              if m.config == RECORDER and m.payload == payload and not m.failure}
    n = max(counts, default=1)
    return "one process" if n == 1 else f"{n} processes"


def reading_section(run: Run) -> str:
    lines = []
    for payload in run.payloads:
        rec = medians(run.measurements, RECORDER, payload)
        ref = medians(run.measurements, REFERENCE, payload)
        if not rec["runs"] or not ref["runs"]:
            continue
        ratio = _median_ratio(run, payload, "rps")
        p50 = _median_ratio(run, payload, "p50_ms")
        lines.append(
            f"- **{payload}**: freshmock record served {fmt(rec['rps'], 0)} req/s against bare "
            f"mitmdump's {fmt(ref['rps'], 0)} ({ratio:.2f}×: throughput target "
            f"{_verdict(ratio >= 1.0)}), p50 {fmt(rec['p50_ms'])} vs {fmt(ref['p50_ms'])} ms "
            f"({p50:.2f}×: latency target {_verdict(p50 <= 1.0)}). It spent "
            f"{fmt(rec['cpu_ms'])} CPU ms per request against {fmt(ref['cpu_ms'])} "
            f"over {_processes(run, payload)}, and peaked at {fmt(rec['peak_rss_mb'], 0)} MB "
            f"RSS against {fmt(ref['peak_rss_mb'], 0)} MB.")
        dropped, seen = drop_share(run.measurements, RECORDER, payload)
        if dropped:
            lines.append(
                f"  It **dropped {dropped:,} of {seen:,} captures ({dropped / seen:.0%})** in "
                "these runs: the proxy kept answering at full speed while recording fell "
                "behind, so its throughput is not the throughput of recording everything.")
    s = run.sustained
    if s is not None:
        lines.append(f"- **Sustained {s.rate:g} req/s**: {_verdict(s.passed)}. "
                     f"{_sustained_summary(s)}. freshmock's processes used "
                     f"{fmt(s.cpu_share * 100, 0)}% of a core; other processes on the machine "
                     f"{fmt(s.other_cores)} cores meanwhile."
                     + (f" Drops by reason: {_reasons(s)}." if _reasons(s) else ""))
        if not s.passed and s.other_cores > SHARED_CORES:
            lines.append(
                f"  Processes outside the benchmark used {fmt(s.other_cores)} of "
                f"{run.machine['nproc']} cores during this check, so freshmock's worker competed "
                "for CPU with them: re-run on a quiet machine before concluding how far freshmock "
                "itself is from the target.")
        if s.max_lag_ms > 50:
            lines.append(
                f"  The load client itself fell up to {fmt(s.max_lag_ms, 0)} ms behind its "
                "schedule (the machine was saturated at times); latency from due time includes "
                "that delay.")
    soak_text, soak_ok = _soak_verdict(run.soak)
    lines.append(f"- **Soak**: {soak_text}" + (f" — {soak_ok}." if run.soak else "."))
    lines.append(
        f"- With wrk's closed loop of {run.settings.connections} connections, p50 latency is "
        "roughly connections ÷ throughput, so the p50 target moves with the throughput target; "
        "the open-loop sustained check is the latency figure that does not depend on it.")
    lines.append(
        "- direct is bounded by wrk and nginx sharing the same cores; it shows the ceiling, "
        "not nginx's capacity.")
    if run.other_cores > SHARED_CORES:
        lines.append(f"- Other processes used {run.other_cores:.2f} cores on average during "
                     "this run: re-run on a quiet machine before reading absolute numbers.")
    return "### Reading\n\n" + "\n".join(lines) + "\n"


def all_runs_section(run: Run) -> str:
    rows = []
    for m in sorted(run.measurements, key=lambda m: (m.payload, m.config, m.round)):
        info = ", ".join(f"{k} {v}" for k, v in m.exit_info.items()
                         if k in ("recorded", "dropped", "lost", "rows", "killed", "stderr"))
        rows.append([m.payload, m.config, str(m.round), fmt(m.rps, 0), fmt(m.cpu_ms, 3),
                     fmt(m.p50_ms), fmt(m.p99_ms), fmt(m.peak_rss_mb, 0), str(m.processes),
                     f"{m.requests:,}", str(m.errors), fmt(m.other_cores), m.failure or info])
    header = ["payload", "configuration", "round", "req/s", "CPU ms/req", "p50 ms", "p99 ms",
              "peak RSS MB", "processes", "requests", "errors", "other cores", "notes"]
    return ("### Every run\n\n" + table(header, rows) + "\n\n*other cores*: CPU used by "
            "processes outside the benchmark during that run.\n")


def payload_title(run: Run, name: str) -> str:
    p = run.payloads[name]
    if name == "large":
        return (f"large: {p.body_bytes / 1000:.0f} KB JSON, "
                f"{p.wire_bytes / 1000:.1f} KB gzip on the wire")
    return f"small: {p.body_bytes} B JSON"


def results_sections(run: Run) -> str:
    parts = []
    for name in run.payloads:
        if any(m.payload == name for m in run.measurements):
            parts.append(f"### Results: {payload_title(run, name)}\n\n"
                         f"{results_table(run, name)}\n\n{ratios_table(run, name)}\n")
    return "\n".join(parts)


def render(run: Run, command: str) -> str:
    """The capture section of docs/performance.md, between its two markers."""
    minutes = (run.finished - run.started).total_seconds() / 60
    return "\n".join([
        START,
        "## Capture: freshmock record against bare mitmproxy",
        "",
        f"Measured {run.started:%Y-%m-%d %H:%M %Z} ({minutes:.0f} min) with `{command}`, "
        "which rewrites this section; run it again to refresh it.",
        "",
        "### Targets",
        "",
        table(["target", "result", ""], target_rows(run)),
        "",
        machine_section(run),
        method_section(run),
        results_sections(run),
        open_loop_section("Sustained rate", run.sustained, "`/large.json`")
        if run.sustained else "",
        open_loop_reference_section(run),
        worker_cost_section(run),
        soak_section(run),
        reading_section(run),
        all_runs_section(run),
        END,
    ]) + "\n"


def write_section(text: str, path: Path) -> None:
    replace_section(text, path, START, END)


def stdout_tables(run: Run) -> str:
    parts = [results_sections(run), worker_cost_section(run), "### Targets\n",
             table(["target", "result", ""], target_rows(run))]
    if run.other_cores > SHARED_CORES:
        parts.append(f"\n(other processes used {run.other_cores:.2f} cores on average "
                     "during the run)")
    return "\n".join(parts)
