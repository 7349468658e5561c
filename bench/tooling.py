"""What the benchmark needs from the machine, and what it says about the machine.

nginx and wrk come from the distribution's packages. A fresh machine or a CI
runner starts without them, so ``ensure_tools`` installs whatever is missing
(Debian/Ubuntu, as root) before anything is measured.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# executable -> Debian package that provides it
TOOLS = {"nginx": "nginx", "wrk": "wrk"}
SBIN = ("/usr/sbin", "/sbin")  # nginx lives here; not always on a non-root PATH


class ToolError(Exception):
    """A tool is missing and cannot be installed; the message says what to do."""


def which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN:
        candidate = Path(folder) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def ensure_tools() -> dict[str, str]:
    """Return {executable: path}, installing missing ones with apt-get first."""
    missing = [name for name in TOOLS if which(name) is None]
    if missing:
        packages = sorted({TOOLS[name] for name in missing})
        _apt_install(packages)
    paths = {name: which(name) for name in TOOLS}
    still_missing = [name for name, path in paths.items() if path is None]
    if still_missing:
        raise ToolError(f"still missing after install: {', '.join(still_missing)}")
    return paths  # type: ignore[return-value]


def _apt_install(packages: list[str]) -> None:
    wanted = " ".join(packages)
    if shutil.which("apt-get") is None:
        raise ToolError(f"the benchmark needs {wanted}; install them with your package manager")
    if os.geteuid() != 0:
        raise ToolError(
            f"the benchmark needs {wanted}, which are not installed; run as root "
            f"(it installs them itself) or run: sudo apt-get install -y {wanted}"
        )
    print(f"bench: installing {wanted} with apt-get", file=sys.stderr, flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if subprocess.run(command, env=env).returncode != 0:
        # Package lists may be missing or stale on a fresh machine: refresh once, retry.
        subprocess.run(["apt-get", "update"], env=env, check=False)
        if subprocess.run(command, env=env).returncode != 0:
            raise ToolError(f"apt-get install {wanted} failed (see its output above)")


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def git_revision(repo: Path) -> str:
    rev = _first_line(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
    try:
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        dirty = ""
    return f"{rev} (with uncommitted changes)" if dirty else rev


def machine_info(tools: dict[str, str], repo: Path) -> dict[str, str]:
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "mitmproxy": metadata.version("mitmproxy"),
        "nginx": _first_line([tools["nginx"], "-v"]).removeprefix("nginx version: "),
        "wrk": _first_line([tools["wrk"], "-v"]).split(" [")[0],
        "freshmock": git_revision(repo),
    }
