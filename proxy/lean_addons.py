"""Import mitmproxy's addon modules without ``mitmproxy/addons/__init__.py``.

That ``__init__`` imports every default addon so that ``default_addons()`` can
list them: the onboarding app (flask, jinja2, werkzeug), proxy auth (ldap3),
the script loader, the web and console pieces' helpers — about 300 modules and
10 MB of RSS here (74.8 → 64.7 MB after importing the sidecar, measured on this
machine with mitmproxy 12.3.1). The sidecar's lean master names the seven
addons it runs and never calls ``default_addons()``, so it registers the
package as a bare namespace over the same folder and imports only those.

If ``mitmproxy.addons`` is already imported (``mitmdump -s proxy/recorder.py``,
or a test process that loaded mitmproxy's tools first), nothing changes: the
real package is used. ``tests/test_sidecar.py`` checks both the saving and that
the sidecar serves real traffic with it.
"""

from __future__ import annotations

import importlib.util
import sys
import types

PACKAGE = "mitmproxy.addons"


def register_bare_addons_package() -> bool:
    """True when the bare package was registered; False when the real one is loaded."""
    if PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return False
    package = types.ModuleType(PACKAGE, "mitmproxy's addons, without the default list")
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = PACKAGE
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules[PACKAGE] = package
    return True
