#!/usr/bin/env python3
"""
Client for the wskit permessage-deflate interop tests (Python `websockets` 10.x).

Usage: deflate_client.py URL [--no-context-takeover] [--client-max-window-bits N]
                     [--server-max-window-bits N]

Connects with permessage-deflate, sends text (JSON-like, 16 KiB), binary (random and
compressible), 1 MiB of text and 200 small messages, checks that each comes back unchanged and
in order, and prints one JSON line: {"ok": true, "checked": N, "response": <the server's
Sec-WebSocket-Extensions>, "extensions": [...]}. On failure it prints {"ok": false, "error": ...}
and exits with status 1.
"""
import argparse
import asyncio
import json
import os
import sys

import websockets
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
)


def json_like(min_bytes):
    items = []
    size = 0
    i = 0
    while size < min_bytes:
        item = json.dumps(
            {
                "id": i,
                "name": "user-%d" % (i % 97),
                "tags": ["alpha", "beta", "gamma"][: (i % 3) + 1],
                "note": "café – naïve – 日本語 – 😀" if i % 5 == 0 else "plain ascii note",
            },
            ensure_ascii=False,
        )
        items.append(item)
        size += len(item.encode()) + 1
        i += 1
    return "[" + ",".join(items) + "]"


def payloads():
    single = [
        ("text 16 KiB", json_like(16 * 1024)),
        ("binary random 64 KiB", os.urandom(64 * 1024)),
        ("binary compressible 64 KiB", (b"wskit-deflate " * 5000)[: 64 * 1024]),
        ("text 1 MiB", json_like(1024 * 1024)),
        ("empty text", ""),
        ("empty binary", b""),
    ]
    small = []
    for i in range(200):
        if i % 3 == 0:
            small.append(bytes([i % 256]) * ((i * 13) % 1500))
        else:
            small.append(("small-%d-" % i) + "é" * ((i * 7) % 700))
    return single, small


def describe(ws):
    out = []
    for ext in ws.extensions:
        item = {"name": ext.name}
        if isinstance(ext, PerMessageDeflate):
            item.update(
                remote_no_context_takeover=ext.remote_no_context_takeover,
                local_no_context_takeover=ext.local_no_context_takeover,
                remote_max_window_bits=ext.remote_max_window_bits,
                local_max_window_bits=ext.local_max_window_bits,
            )
        out.append(item)
    return out


async def run(args):
    if args.no_context_takeover or args.client_max_window_bits or args.server_max_window_bits:
        options = {
            "compression": None,
            "extensions": [
                ClientPerMessageDeflateFactory(
                    server_no_context_takeover=args.no_context_takeover,
                    client_no_context_takeover=args.no_context_takeover,
                    server_max_window_bits=args.server_max_window_bits,
                    client_max_window_bits=args.client_max_window_bits or True,
                )
            ],
        }
    else:
        options = {"compression": "deflate"}
    checked = 0
    async with websockets.connect(args.url, max_size=None, **options) as ws:
        single, small = payloads()
        for name, data in single:
            await ws.send(data)
            echo = await asyncio.wait_for(ws.recv(), 10)
            if type(echo) is not type(data) or echo != data:
                raise AssertionError("%s: echo differs (%s)" % (name, type(echo).__name__))
            checked += 1
        for data in small:
            await ws.send(data)
        for i, data in enumerate(small):
            echo = await asyncio.wait_for(ws.recv(), 10)
            if type(echo) is not type(data) or echo != data:
                raise AssertionError("small message %d: echo differs or out of order" % i)
            checked += 1
        result = {
            "ok": True,
            "checked": checked,
            "response": ws.response_headers.get("Sec-WebSocket-Extensions"),
            "extensions": describe(ws),
        }
        await ws.close(1000, "done")
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--no-context-takeover", action="store_true")
    p.add_argument("--client-max-window-bits", type=int)
    p.add_argument("--server-max-window-bits", type=int)
    args = p.parse_args()
    try:
        result = asyncio.run(asyncio.wait_for(run(args), 60))
    except Exception as error:  # report anything as a failed run
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(error).__name__, error)}))
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
