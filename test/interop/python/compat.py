"""Bridges the websockets asyncio APIs: the new one (websockets >= 13, websockets.asyncio) and
the legacy one (websockets <= 12, e.g. Debian's 10.4), so the interop scripts run on both."""

import importlib.util

import websockets

VERSION = websockets.__version__

try:
    NEW_API = importlib.util.find_spec("websockets.asyncio") is not None
except ModuleNotFoundError:
    NEW_API = False

if NEW_API:
    from websockets.asyncio.client import connect as _connect
    from websockets.asyncio.server import serve as _serve
else:
    _connect = websockets.connect
    _serve = websockets.serve

# No compression (wskit may not negotiate it) and no keepalive pings that tests do not expect.
COMMON = {"compression": None, "ping_interval": None}


def _first_common(offered, available):
    """The first subprotocol the client offered that the server supports, else none. (The new
    API's default refuses clients that offer none or no common one; the legacy default weighs
    both sides' preferences. The tests want one predictable rule on every version.)"""
    for protocol in offered:
        if protocol in available:
            return protocol
    return None


def serve(handler, host, port, subprotocols=None, max_size=None):
    available = list(subprotocols or [])
    if NEW_API:
        select = lambda _connection, offered: _first_common(offered, available)  # noqa: E731
    else:
        select = lambda offered, _server: _first_common(offered, available)  # noqa: E731
    return _serve(
        handler,
        host,
        port,
        subprotocols=available or None,
        select_subprotocol=select,
        max_size=max_size,
        **COMMON,
    )


def connect(url, subprotocols=None, headers=None, max_size=None):
    key = "additional_headers" if NEW_API else "extra_headers"
    options = {key: headers or {}}
    return _connect(
        url, subprotocols=subprotocols or None, max_size=max_size, **options, **COMMON
    )


def request_path(ws):
    return ws.request.path if NEW_API else ws.path


def request_headers(ws):
    return ws.request.headers if NEW_API else ws.request_headers
