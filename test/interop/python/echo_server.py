#!/usr/bin/env python3
"""WebSocket echo server for the wskit interop tests, on the websockets library.

Binds 127.0.0.1 on an ephemeral port and prints {"port": N} on stdout, then one JSON line per
finished connection: path, subprotocol, the X-Interop request header, and the close code and
reason received from the client. Text messages that are commands:
  cmd:close:<code>:<reason>  close with that code and reason
  cmd:ping:<data>            ping with <data>, wait for the pong, then send "pong:<data>"
  cmd:frag                   send a fragmented text message, then a fragmented binary one
  cmd:big:<n>                send a binary message of n bytes
Every other message is echoed back as it came (text as text, binary as binary).

Options: --subprotocol NAME (repeatable), --max-size N (default: no limit).
"""

import argparse
import asyncio
import json
import sys

import compat
from websockets.exceptions import ConnectionClosed


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def command(ws, text):
    parts = text.split(":", 3)
    name = parts[1]
    if name == "close":
        await ws.close(int(parts[2]), parts[3] if len(parts) > 3 else "")
    elif name == "ping":
        data = text[len("cmd:ping:"):]
        waiter = await ws.ping(data.encode())
        await waiter
        await ws.send("pong:" + data)
    elif name == "frag":
        await ws.send(["fragmented ", "☃ ", "text"])
        await ws.send([bytes([0, 1, 2]), b"", bytes(range(3, 10))])
    elif name == "big":
        await ws.send(bytes(int(parts[2])))
    else:
        await ws.send("unknown command " + name)


async def handler(ws, *_legacy_path):
    error = None
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("cmd:"):
                await command(ws, message)
            else:
                await ws.send(message)
    except ConnectionClosed:
        pass
    except Exception as exc:  # reported to the test, which fails on it
        error = repr(exc)
    emit(
        {
            "event": "closed",
            "path": compat.request_path(ws),
            "subprotocol": ws.subprotocol,
            "header": compat.request_headers(ws).get("X-Interop"),
            "close_code": ws.close_code,
            "close_reason": ws.close_reason,
            "error": error,
        }
    )


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subprotocol", action="append", default=[])
    parser.add_argument("--max-size", type=int, default=None)
    args = parser.parse_args()
    async with compat.serve(
        handler, "127.0.0.1", 0, subprotocols=args.subprotocol, max_size=args.max_size
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        emit({"event": "listening", "port": port, "version": compat.VERSION})
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
