#!/usr/bin/env python3
"""
Echo server for the wskit permessage-deflate interop tests (Python `websockets` 10.x).

Binds 127.0.0.1 on an ephemeral port, prints the port on the first line of stdout, echoes every
message with compression="deflate" (or the extension parameters given on the command line), and
exits when stdin is closed. The text message "__extensions__" is answered with a JSON description
of the extensions negotiated on that connection instead of being echoed.
"""
import argparse
import asyncio
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)


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
    return {
        "extensions": out,
        "request": ws.request_headers.get("Sec-WebSocket-Extensions"),
        "response": ws.response_headers.get("Sec-WebSocket-Extensions"),
    }


async def handler(ws, path=None):
    try:
        async for message in ws:
            if message == "__extensions__":
                await ws.send(json.dumps(describe(ws)))
            else:
                await ws.send(message)
    except websockets.ConnectionClosed:
        pass


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--server-no-context-takeover", action="store_true")
    p.add_argument("--client-no-context-takeover", action="store_true")
    p.add_argument("--server-max-window-bits", type=int)
    p.add_argument("--client-max-window-bits", type=int)
    return p.parse_args()


async def main():
    args = parse_args()
    custom = (
        args.server_no_context_takeover
        or args.client_no_context_takeover
        or args.server_max_window_bits is not None
        or args.client_max_window_bits is not None
    )
    if custom:
        options = {
            "compression": None,
            "extensions": [
                ServerPerMessageDeflateFactory(
                    server_no_context_takeover=args.server_no_context_takeover,
                    client_no_context_takeover=args.client_no_context_takeover,
                    server_max_window_bits=args.server_max_window_bits,
                    client_max_window_bits=args.client_max_window_bits,
                )
            ],
        }
    else:
        options = {"compression": "deflate"}
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, **options) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        loop = asyncio.get_running_loop()
        # Serve until the parent closes our stdin (or kills us).
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
