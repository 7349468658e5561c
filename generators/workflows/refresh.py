"""The nightly stub refresh: compare, regenerate, describe, optionally commit.

``refresh`` reads what the committed stubs in ``OUT`` say about each
dependency (the statistics WireMock mappings carry), compares current traffic
with it, rewrites every requested target under ``OUT/<target>/``, and writes
a pull-request body: the drift first, then which files changed and how fresh
each stub is. Nothing changed means no commit and a plain "no changes".
Pushing and opening the pull request are left to CI.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlite_utils

from freshmock.generators.drift.report import Windows, counts, render_markdown
from freshmock.generators.drift.stub_baseline import (
    StubBaselineError,
    baseline_days,
    read_stub_baseline,
)
from freshmock.generators.drift.windows import DriftReport, compare_windows
from freshmock.generators.model.endpoint import Endpoint, Model
from freshmock.generators.model.infer import merge_window
from freshmock.generators.model.publish import publish, window_of
from freshmock.generators.targets import TARGETS
from freshmock.generators.workflows.atomic_output import staged
from freshmock.proxy.errors import ExitCode, FreshmockError
from freshmock.proxy.store import last_observed_day


class RefreshError(FreshmockError):
    """A refresh cannot go ahead; the message is meant for the user as is."""


@dataclass
class FileChanges:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.removed)


@dataclass
class RefreshResult:
    report: DriftReport | None  # None: no committed stubs to compare with
    windows: Windows | None
    changes: dict[str, FileChanges]
    endpoints: list[Endpoint]
    verified: object = None  # refresh --verify: a verify.run.VerifyRun of hand-written mocks

    @property
    def drifts(self) -> list:
        return self.report.drifts if self.report is not None else []

    @property
    def changed(self) -> bool:
        return any(self.changes.values())


def _snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _compare(before: dict[str, bytes], after: dict[str, bytes]) -> FileChanges:
    return FileChanges(
        added=sorted(after.keys() - before.keys()),
        modified=sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
        removed=sorted(before.keys() - after.keys()),
    )


def refresh_stubs(
    db: sqlite_utils.Database, model: Model, out_dir: Path, targets: list[str],
    service: str | None = None, pr_body: Path | None = None, verified: object = None,
) -> RefreshResult:
    """Regenerate ``targets`` under ``out_dir`` from ``model`` (``publish``'s, over ``db``).

    All or nothing: every target folder (and ``pr_body``) is written into a
    staging copy beside it and all are moved into place together at the end
    (see ``atomic_output``), so an interrupted refresh leaves ``out_dir`` as it was.
    """
    try:
        baseline = read_stub_baseline(out_dir)
    except StubBaselineError:
        baseline = None  # first refresh, or no target that carries statistics
    report, windows = None, None
    newest = last_observed_day(db)
    if baseline is not None and newest is not None:
        # What was observed since the stubs were made; the whole window when
        # nothing was (a same-day refresh).
        stubbed = baseline_days(baseline)
        start = (date.fromisoformat(stubbed[1]) + timedelta(days=1)).isoformat()
        if start > newest:
            start = model.window.since
        current = merge_window(db, start, newest)
        windows = Windows(stubbed, (start or _first_day(current), newest))
        report = compare_windows(baseline, current, service=service,
                                 baseline_is="stubs are for", current_holds="the store holds")
    changes = {}
    with staged() as stage:
        for name in targets:
            before = _snapshot(out_dir / name)
            folder = stage.folder(out_dir / name)
            TARGETS[name].writer()(model, folder, service=service)
            changes[name] = _compare(before, _snapshot(folder))
        result = RefreshResult(report, windows, changes, model.of_service(service))
        result.verified = verified  # refresh --verify: listed in the PR body
        if pr_body is not None:
            stage.file(pr_body).write_text(render_pr_body(result), encoding="utf-8")
    return result


REMOVAL_KINDS = ("property-removed", "optional-property-removed", "endpoint-gone",
                 "status-gone")


def removal_lines(report: DriftReport) -> list[str]:
    """One bullet per removal ``diff`` reports, named the way the drift report names it."""
    lines = []
    for d in report.drifts:
        for c in d.changes:
            if c.kind not in REMOVAL_KINDS:
                continue
            where = f"`{d.method} {d.path_template}`"
            if d.status is not None:
                where += f" → {d.status}"
            field = f" `{'request ' if c.part == 'request' else ''}{c.path}`" if c.path else ""
            lines.append(f"- {c.severity.value} {c.kind}: {d.service} {where}{field} "
                         f"(was {c.old}; now {c.new})")
    return lines


def _first_day(window: dict) -> str:
    return min((p.first_seen for p in window.values()), default="")[:10]


def render_pr_body(result: RefreshResult) -> str:
    lines = ["# Refresh mocks from observed traffic", ""]
    if result.report is None:
        lines += ["No committed freshmock stubs with statistics to compare with (a first "
                  "refresh, or no `wiremock` target): no drift report.", ""]
    else:
        tally = counts(result.drifts)
        lines += [f"**Drift:** {tally['breaking']} breaking, {tally['risky']} risky, "
                  f"{tally['additive']} additive.", ""]
        removals = removal_lines(result.report)
        if removals:
            lines += ["**Removed:**", "", *removals, ""]
        lines += [render_markdown(result.report, result.windows).rstrip("\n"), ""]
    lines += ["## Regenerated", "", "| target | added | changed | removed |", "|---|---|---|---|"]
    for name, change in result.changes.items():
        lines.append(f"| {name} | {len(change.added)} | {len(change.modified)} | "
                     f"{len(change.removed)} |")
    lines += ["", "## Freshness", "",
              "| dependency | endpoint | status | last observed | samples |",
              "|---|---|---|---|---|"]
    for e in sorted(result.endpoints, key=lambda e: (e.last_seen, e.service, e.path_template,
                                                     e.method, e.status)):
        lines.append(f"| {e.service} | `{e.method} {e.path_template}` | "
                     f"{e.status} | {e.last_seen} | {e.observations} |")
    if result.verified is not None:
        from freshmock.generators.workflows.verify.report import render_markdown as verify_markdown

        lines += ["", verify_markdown(result.verified.verdicts,
                                      result.verified.window).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        last = ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]
        raise RefreshError(f"git {' '.join(args)} failed: {last}")
    return result.stdout.strip()


def check_git_repository(out_dir: Path) -> None:
    """Fail before anything is written when --commit cannot commit under ``out_dir``."""
    folder = Path(out_dir).absolute()
    while not folder.exists():  # OUT itself may not exist yet
        folder = folder.parent
    try:
        _git(folder, "rev-parse", "--show-toplevel")
    except FileNotFoundError:
        raise RefreshError("--commit needs git, and git is not on PATH") from None
    except RefreshError:
        raise RefreshError(f"--commit: {out_dir} is not inside a git repository (run "
                           "`git init` there, or drop --commit)") from None


def commit_refresh(out_dir: Path, branch: str, result: RefreshResult) -> str:
    """Commit the refreshed stubs on ``branch`` (created from HEAD); returns the commit id."""
    check_git_repository(out_dir)
    _git(out_dir, "checkout", "-B", branch)
    _git(out_dir, "add", "-A", "--", ".")
    tally = counts(result.drifts)
    subject = "Refresh mocks from observed traffic"
    if tally["breaking"]:
        subject += f" ({tally['breaking']} breaking changes)"
    identity = []
    if not _git_config(out_dir, "user.email"):  # a CI runner often has none configured
        identity = ["-c", "user.name=freshmock", "-c", "user.email=freshmock@localhost"]
    body = "\n".join(f"{name}: {len(c.added)} added, {len(c.modified)} changed, "
                     f"{len(c.removed)} removed" for name, c in result.changes.items())
    _git(out_dir, *identity, "commit", "-q", "-m", subject, "-m", body)
    return _git(out_dir, "rev-parse", "HEAD")


def _git_config(folder: Path, key: str) -> str:
    result = subprocess.run(["git", "config", key], cwd=folder, capture_output=True, text=True)
    return result.stdout.strip()


class NothingToRefresh(FreshmockError):
    """The window holds no endpoint (of the service asked for)."""

    exit_code = ExitCode.NOTHING_COMPARABLE  # nothing observed to work from


def parse_targets(text: str) -> list[str]:
    """``--target wiremock,openapi`` checked: every name a known target, at least one."""
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in TARGETS]
    if unknown or not chosen:
        raise RefreshError(f"unknown target(s) {', '.join(unknown) or '(none given)'}; "
                           "choose from " + ", ".join(sorted(TARGETS)))
    return chosen


def run_refresh(
    db: sqlite_utils.Database, out_dir: Path, targets: list[str], days: int | None,
    service: str | None = None, pr_body: Path | None = None, verified: object = None,
) -> RefreshResult:
    """Publish the last ``days`` days, then ``refresh_stubs`` from that model.

    Raises ``NothingToRefresh`` (nothing written) when the window holds no endpoint.
    """
    model = publish(db, window_of(db, days))
    if not model.of_service(service):
        raise NothingToRefresh("no endpoint in the window")
    return refresh_stubs(db, model, out_dir, targets, service=service, pr_body=pr_body,
                         verified=verified)


def summary_json(result: RefreshResult, commit_id: str | None) -> dict:
    """What ``refresh --json`` prints."""
    return {"changed": result.changed, "drift_findings": _drift_total(result),
            "commit": commit_id,
            "targets": {name: {"added": len(c.added), "changed": len(c.modified),
                               "removed": len(c.removed)}
                        for name, c in result.changes.items()}}


def summary_lines(result: RefreshResult, out_dir: Path, commit_id: str | None,
                  branch: str) -> list[str]:
    """What ``refresh`` prints: per target what changed, the drift, the commit."""
    if not result.changed:
        return [f"no changes: the stubs under {out_dir} already match what was observed"]
    lines = [f"{name}: {len(change.added)} added, {len(change.modified)} changed, "
             f"{len(change.removed)} removed" for name, change in result.changes.items()]
    lines.append(f"{_drift_total(result)} drift findings" if result.windows else
                 "no committed stubs with statistics to compare with: no drift report")
    if commit_id:
        lines.append(f"committed {commit_id[:12]} on {branch}")
    return lines


def _drift_total(result: RefreshResult) -> int:
    return sum(len(d.changes) for d in result.drifts)
