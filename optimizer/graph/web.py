"""Model Explorer's web app as a folder the app can serve as a Streamlit component.

The ``ai-edge-model-explorer`` package ships its page (``model_explorer/web_app``: Angular,
three.js, a web worker, fonts). ``web_dir()`` copies it once into the workspace cache with
three changes, so it runs inside the app's iframe and offline:

* its addresses become relative to the component's folder (``<base href="./">``,
  ``static_files/...``), and the fonts it would fetch from fonts.gstatic.com point at the copies
  the package ships in ``static_files``;
* its scripts are started by ``bridge.js`` (this package), which answers the page's requests to
  its own server from the data the app sends: the graphs and overlays. Any other request to
  that server (``read_text_file?path=...``, uploads, commands) is refused in the browser;
* nothing else: the graph drawing is Model Explorer's own.

The folder depends only on the installed version and the bridge's text, so every server process
builds the same one (written to a temporary folder and renamed: two processes never see half a
folder). No streamlit here: ``pages/common/graph_view.py`` declares the component on this folder.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from optimizer import paths

PACKAGE = "ai-edge-model-explorer"
SETUP_COMMAND = "make setup-graph"
BRIDGE = Path(__file__).with_name("bridge.js")

_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_GSTATIC = re.compile(r"url\(https://fonts\.gstatic\.com/[^)]*/([^/)]+)\)")
_MODULE = re.compile(r'<script src="([^"]+\.js)" type="module"></script>')


def missing() -> str | None:
    """Why the graph view cannot be shown (naming the command that fixes it), or None."""
    if _web_app() is None:
        return (f"the graph view needs Google's Model Explorer, which is not installed on this "
                f"server; run `{SETUP_COMMAND}` (opt-in: it installs {PACKAGE} and its "
                f"adapter, about 500 MB)")
    return None


def _web_app() -> Path | None:
    """The installed package's ``web_app`` folder, found without importing the package (its
    ``__init__`` loads a web server and the adapter's native library)."""
    try:
        spec = importlib.util.find_spec("model_explorer")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        web = Path(folder) / "web_app"
        if (web / "index.html").is_file():
            return web
    return None


def web_dir() -> Path:
    """The component folder (built on first use). ``ValueError`` naming ``make setup-graph``
    when Model Explorer is not installed."""
    source = _web_app()
    if source is None:
        raise ValueError(missing())
    version = metadata.version(PACKAGE)
    stamp = hashlib.sha256(BRIDGE.read_bytes()).hexdigest()[:12]
    target = paths.cache_dir("model-explorer-web") / f"{version}-{stamp}"
    if (target / "index.html").is_file():
        return target
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        _build(source, work)
        try:
            os.rename(work, target)
        except OSError:          # another process finished the same folder first
            if not (target / "index.html").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _build(source: Path, out: Path) -> None:
    shutil.copytree(source, out, dirs_exist_ok=True)
    for css in out.glob("*.css"):
        css.write_text(_relative(css.read_text(encoding="utf-8")), encoding="utf-8")
    html = (source / "index.html").read_text(encoding="utf-8")
    fonts = {p.name for p in (out / "static_files").glob("*")}
    html = _FONT_FACE.sub(lambda m: _local_font(m.group(0), fonts), html)
    html = re.sub(r'<link rel="preconnect"[^>]*>', "", html)
    html = html.replace('<base href="/">', '<base href="./">')
    html = _relative(html)
    scripts = _MODULE.findall(html)
    if not scripts or "<base href=\"./\">" not in html:
        raise ValueError(f"{PACKAGE}'s index.html has an unexpected layout; install the version "
                         f"pinned in requirements-graph.txt (`{SETUP_COMMAND}`)")
    html = _MODULE.sub("", html).replace(
        "</body>", f'<script id="bridge" src="bridge.js" data-scripts="{" ".join(scripts)}">'
                   f"</script></body>")
    (out / "index.html").write_text(html, encoding="utf-8")
    shutil.copyfile(BRIDGE, out / "bridge.js")


def _local_font(rule: str, fonts: set) -> str:
    """An @font-face rule pointing at the package's copy of its font; a rule whose font the
    package does not ship is dropped (the browser falls back to the next font)."""
    found = _GSTATIC.search(rule)
    if found is None:
        return rule
    if found.group(1) not in fonts:
        return ""
    return _GSTATIC.sub(f"url(static_files/{found.group(1)})", rule)


def _relative(text: str) -> str:
    return text.replace("url(/static_files/", "url(static_files/").replace(
        'href="/static_files/', 'href="static_files/')
