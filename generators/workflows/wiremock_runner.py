"""Run the generated WireMock stubs: find WireMock and Java, pick the folder, build the command.

``make peers`` installs WireMock (the npm package bundles the standalone jar)
under ``.peers/``; a ``wiremock`` on PATH or ``FRESHMOCK_WIREMOCK`` works as
well. ``generate --target wiremock`` writes one root folder per dependency
(``OUT/<service>/mappings``) and WireMock serves one root, so a folder holding
several asks for ``--service``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from freshmock.proxy.errors import FreshmockError

PEERS_WIREMOCK = Path(".peers") / "node_modules" / ".bin" / "wiremock"


class WireMockError(FreshmockError):
    """WireMock cannot be started; the message is meant for the user as is."""


def find_wiremock(start: Path | None = None) -> str:
    """The WireMock launcher: $FRESHMOCK_WIREMOCK, .peers/ here or in a parent folder, PATH."""
    configured = os.environ.get("FRESHMOCK_WIREMOCK")
    if configured:
        if not Path(configured).is_file():
            raise WireMockError(f"FRESHMOCK_WIREMOCK={configured} is not a file")
        return configured
    folder = (start or Path.cwd()).absolute()
    for candidate in (folder, *folder.parents):
        if (candidate / PEERS_WIREMOCK).is_file():
            return str(candidate / PEERS_WIREMOCK)
    on_path = shutil.which("wiremock")
    if on_path:
        return on_path
    raise WireMockError("WireMock is not installed: run `make peers` in the freshmock checkout "
                        "(or `npm i wiremock@3`, or set FRESHMOCK_WIREMOCK to its launcher)")


def check_java() -> None:
    if shutil.which("java") is None:
        raise WireMockError("Java is missing: WireMock runs on Java 11 or newer "
                            "(install a JRE, e.g. `apt-get install default-jre-headless`)")


def wiremock_root(folder: Path, service: str | None) -> Path:
    """The root folder (holding ``mappings/``) to serve from ``folder``."""
    if not folder.is_dir():
        raise WireMockError(f"{folder} is not a folder of WireMock stubs "
                            "(write them with `freshmock generate --target wiremock`)")
    if service is None and (folder / "mappings").is_dir():
        return folder
    roots = sorted(p for p in folder.iterdir() if (p / "mappings").is_dir())
    if service is not None:
        from freshmock.generators.targets.emit import slug

        for root in roots:
            if root.name in (service, slug(service)):
                return root
        raise WireMockError(f"no stubs for service {service!r} under {folder}; found: "
                            + (", ".join(r.name for r in roots) or "none"))
    if len(roots) == 1:
        return roots[0]
    if not roots:
        raise WireMockError(f"no WireMock mappings under {folder} (expected "
                            f"{folder}/<service>/mappings; run `freshmock generate`)")
    raise WireMockError(f"{folder} holds stubs of {len(roots)} services "
                        f"({', '.join(r.name for r in roots)}): pick one with --service")


def wiremock_command(launcher: str, root: Path, port: int, host: str) -> list[str]:
    return [launcher, "--port", str(port), "--bind-address", host,
            "--root-dir", str(root), "--disable-banner"]
