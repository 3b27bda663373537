#!/usr/bin/env python3
"""A TLS-terminating relay for the plain pypush session (loopback only).

    courier_relay.py --port LISTEN --upstream-port 5223 --log relay.jsonl

Accepts one TLS connection on 127.0.0.1:LISTEN (self-signed certificate for
courier.push.apple.com, made as courier_server.py makes its own; ALPN apns-security-v3),
opens a plain TCP connection to 127.0.0.1:UPSTREAM (courier_server.py --plain) and copies
the decrypted bytes both ways unchanged, as a TLS-terminating proxy in front of a courier
would. It knows nothing of the courier protocol: every chunk it forwards is logged as it
was read ({"event": "data", "dir": "c2s"|"s2c", "hex": ...}), so run_session.py can check
that what the relay passed on is byte for byte what both peers logged.

A client EOF (pypush closes TCP without close_notify) is passed on as a half-close
upstream; the server's EOF closes the client side. Exits after the one connection, or
with status 2 after --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import tempfile

from courier_server import HOST, connection_event, serve_once, server_context


class Relay:
    def __init__(self, log, upstream_port: int):
        self.log_file = log
        self.upstream_port = upstream_port
        self.sni = None
        self.done = asyncio.Event()

    def log(self, entry: dict):
        self.log_file.write(json.dumps({"side": "relay", **entry}, sort_keys=True) + "\n")
        self.log_file.flush()

    async def pump(self, direction: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self.log({"event": "data", "dir": direction, "hex": data.hex()})
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError) as e:
            self.log({"event": "error", "dir": direction, "error": repr(e)})
        self.log({"event": "eof", "dir": direction})
        if direction == "c2s":
            if writer.can_write_eof():
                writer.write_eof()
        else:
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.log(connection_event(writer, self.sni))
        up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
        self.log({"event": "upstream", "local": list(up_writer.get_extra_info("sockname")),
                  "peer": list(up_writer.get_extra_info("peername"))})
        await asyncio.gather(
            self.pump("c2s", reader, up_writer),
            self.pump("s2c", up_reader, writer),
        )
        up_writer.close()
        for w in (writer, up_writer):
            try:
                await w.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass
        self.log({"event": "closed"})
        self.done.set()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True, help="TLS port the client connects to")
    ap.add_argument("--upstream-port", type=int, default=5223, help="plain courier server port")
    ap.add_argument("--log", required=True)
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as d, open(args.log, "w") as log:
        relay = Relay(log, args.upstream_port)
        ctx = server_context(d, lambda name: setattr(relay, "sni", name))
        await serve_once(relay.handle, args.port, ctx, relay.done, relay.log, args.timeout)


if __name__ == "__main__":
    asyncio.run(main())
