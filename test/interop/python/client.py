#!/usr/bin/env python3
"""WebSocket client for the wskit interop tests, on the websockets library.

Connects to URL, checks that text and binary messages of each --sizes size come back
identical from an echo server, sends --count pipelined messages and checks their order, then
(optionally) pings, sends a fragmented message, and closes with --close-code/--close-reason, or
with --await-close TEXT sends TEXT and waits for the server to close. Prints one JSON summary.
"""

import argparse
import asyncio
import json
import os
import sys

import compat
from websockets.exceptions import ConnectionClosed

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
UNICODE = "héllo wörld — €100 · 漢字 · 🎉🚀 · Ωμέγα"


async def run(args, summary):
    headers = dict(h.split(":", 1) for h in args.header)
    async with compat.connect(
        args.url, subprotocols=args.subprotocol, headers=headers, max_size=None
    ) as ws:
        summary["subprotocol"] = ws.subprotocol
        try:
            for size in args.sizes:
                text = "".join(ALPHABET[(i * 7 + size) % len(ALPHABET)] for i in range(size))
                await ws.send(text)
                echoed = await ws.recv()
                if echoed != text:
                    summary["failures"].append(f"text {size}")
                data = os.urandom(size)
                await ws.send(data)
                echoed = await ws.recv()
                if not isinstance(echoed, bytes) or echoed != data:
                    summary["failures"].append(f"binary {size}")
                summary["echoed"] += 2
            if args.unicode:
                await ws.send(UNICODE)
                if await ws.recv() != UNICODE:
                    summary["failures"].append("unicode")
                summary["echoed"] += 1
            for i in range(args.count):
                await ws.send(f"message {i}" if i % 2 == 0 else f"binary {i}".encode())
            for i in range(args.count):
                got = await ws.recv()
                want = f"message {i}" if i % 2 == 0 else f"binary {i}".encode()
                if got != want:
                    summary["failures"].append(f"pipelined {i}: {got!r}")
                    break
                summary["pipelined"] += 1
            if args.ping:
                waiter = await ws.ping(b"py-ping")
                await asyncio.wait_for(waiter, 5)
                summary["ping"] = True
            if args.fragmented:
                await ws.send(["frag", "mented ", "☃"])
                summary["fragmented"] = await ws.recv()
            if args.await_close is not None:
                await ws.send(args.await_close)
                try:
                    while True:
                        await ws.recv()
                except ConnectionClosed:
                    pass
            else:
                await ws.close(args.close_code, args.close_reason)
        except ConnectionClosed as exc:
            summary["error"] = f"ConnectionClosed: {exc}"
        summary["close_code"] = ws.close_code
        summary["close_reason"] = ws.close_reason


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--sizes", default="", help="comma-separated message sizes")
    parser.add_argument("--count", type=int, default=0, help="pipelined messages")
    parser.add_argument("--unicode", action="store_true")
    parser.add_argument("--ping", action="store_true")
    parser.add_argument("--fragmented", action="store_true")
    parser.add_argument("--subprotocol", action="append", default=[])
    parser.add_argument("--header", action="append", default=[], help="Name:value")
    parser.add_argument("--close-code", type=int, default=1000)
    parser.add_argument("--close-reason", default="")
    parser.add_argument("--await-close", default=None)
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s != ""]
    summary = {
        "version": compat.VERSION,
        "subprotocol": None,
        "echoed": 0,
        "pipelined": 0,
        "ping": False,
        "fragmented": None,
        "failures": [],
        "close_code": None,
        "close_reason": None,
        "error": None,
    }
    try:
        asyncio.run(run(args, summary))
    except Exception as exc:
        summary["error"] = repr(exc)
    summary["ok"] = not summary["failures"] and summary["error"] is None
    sys.stdout.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
