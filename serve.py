"""Serve the app: ``streamlit run serve.py`` (what ``make run`` does). ``app.py`` is the script.

Streamlit's frontend finds its server by probing the page's own address first: a deep link
such as ``/results?run=..`` requests ``/results/_stcore/health`` and
``/results/_stcore/host-config`` (two 404s) before it tries ``/_stcore/...`` (upstream
streamlit/streamlit#7074). The frontend skips the probing when ``window.__streamlit``
names the server's base URL before its bundle loads, so every page this server hands out
gets that one line: the base is the page address's folder (``/results`` -> ``/``,
``/prefix/results`` -> ``/prefix/``), the same folder the page's own ``./static/...``
scripts are loaded from, so a reverse proxy that strips a path prefix still works.
``streamlit run app.py`` still works as before, with the two 404s per deep link.
"""
import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

#: Set before Streamlit's bundle (a module script, so it runs after this classic one).
BASE_URL_SCRIPT = (b'<script>window.__streamlit = Object.assign(window.__streamlit || {}, '
                   b'{BACKEND_BASE_URL: new URL(".", window.location.href).href});</script>')

#: Paths of Streamlit's own endpoints and files: never a page, left untouched.
_NOT_PAGES = ("/_stcore", "/static/", "/media/", "/component/", "/app/static/", "/favicon")


_REQUEST_DROPS = (b"accept-encoding", b"if-none-match", b"if-modified-since")
#: The file's own length and validators describe the file, not the page with the script.
_RESPONSE_DROPS = (b"content-length", b"etag", b"last-modified")


class BaseUrlForDeepLinks:
    """ASGI middleware: a page one level below the base (``/<page>``) gets the base URL
    script in its HTML head. Only GETs of HTML are changed; everything else passes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        # the path below the app's base: a mount point (root_path) or server.baseUrlPath
        base = "/" + str(config.get_option("server.baseUrlPath") or "").strip("/")
        path = scope.get("path", "")[len(scope.get("root_path", "")):]
        path = "/" + path[len(base):].lstrip("/") if path.startswith(base) else path
        page = path.strip("/")
        if (scope["type"] != "http" or scope.get("method") != "GET" or not page
                or "/" in page or "." in page or path.startswith(_NOT_PAGES)):
            await self.app(scope, receive, send)
            return
        # the whole page, uncompressed (a few kB), so the script can go into it: no gzip, no
        # "304 not modified" (a copy cached from a server without this script would stay)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _REQUEST_DROPS]
        start: dict = {}
        body = bytearray()

        async def buffered(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            content = bytes(body)
            kind = dict(start.get("headers", [])).get(b"content-type", b"")
            if kind.startswith(b"text/html") and b"<head>" in content:
                content = content.replace(b"<head>", b"<head>" + BASE_URL_SCRIPT, 1)
            start["headers"] = [(k, v) for k, v in start.get("headers", [])
                                if k.lower() not in _RESPONSE_DROPS]
            start["headers"].append((b"content-length", str(len(content)).encode()))
            await send(start)
            await send({"type": "http.response.body", "body": content})

        await self.app({**scope, "headers": headers}, receive, buffered)


app = st.App("app.py", middleware=[Middleware(BaseUrlForDeepLinks)])
