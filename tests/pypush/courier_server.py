#!/usr/bin/env python3
"""A small APNs courier test server for the pypush capture test (loopback only).

TLS with a self-signed certificate generated at start-up, ALPN apns-security-v3, one
connection, then it exits. With --plain it listens without TLS: the courier bytes in clear,
as behind courier_relay.py, the TLS-terminating relay of run_session.py --plain. It answers
the client lock-step, so the order of commands on the wire is fixed:

    client  Connect (0x07)            -> server ConnectResponse (0x08, status 0, push token)
    client  FilterTopics (0x09)
    client  SetActiveState (0x14)
    client  Message (0x0A, com.apple.madrid, bplist)
                                      -> server MessageAck (0x0B) for it
                                      -> server Message (0x0A, com.apple.madrid, bplist reply)
    client  MessageAck (0x0B) for the reply
                                      -> server Message (0x0A, com.apple.gamed, JSON)
    client  MessageAck (0x0B) for it
    client  ScopedTokenRequest (0x11) -> server ScopedTokenResponse (0x12)
    client  KeepAlive (0x0C)          -> server KeepAliveAck (0x0D)
    client  FilterTopics (0x09)       (unsubscribes com.apple.gamed)
    client  closes the connection     -> server closes, exits

Every message it receives or sends is logged as one JSON line (see courier_wire.describe).
The server does not depend on the order above: it reacts to each command; the order is the
client's. Values are drawn from a seeded PRNG, except clocks.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import plistlib
import random
import ssl
import sys
import tempfile
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID

import courier_wire as w

HOST = "127.0.0.1"  # loopback only, never anything else
ALPN = "apns-security-v3"


def make_cert(dirname: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "courier.push.apple.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("courier.push.apple.com"), x509.DNSName("*.courier.push.apple.com")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certfile = os.path.join(dirname, "server.crt")
    keyfile = os.path.join(dirname, "server.key")
    with open(certfile, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyfile, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return certfile, keyfile


def connection_event(writer: asyncio.StreamWriter, sni: str | None) -> dict:
    """The log line for an accepted connection: its TLS parameters, or "plain" without TLS."""
    peer = list(writer.get_extra_info("peername"))
    sslobj = writer.get_extra_info("ssl_object")
    if sslobj is None:
        return {"event": "plain", "peer": peer}
    return {
        "event": "tls",
        "peer": peer,
        "alpn": sslobj.selected_alpn_protocol(),
        "version": sslobj.version(),
        "cipher": sslobj.cipher()[0],
        "sni": sni,
    }


class Server:
    def __init__(self, log, seed: int):
        self.log_file = log
        self.rng = random.Random(seed)
        self.seq = 0
        self.sni = None
        self.done = asyncio.Event()
        self.base_token = self.rng.randbytes(32)
        self.peer_token = self.rng.randbytes(32)  # the iMessage peer who "replies"
        self.next_id = self.rng.randrange(1 << 24, 1 << 31)
        self.madrid_reply_id = None
        self.gamed_push_id = None
        self.writer = None

    def log(self, entry: dict):
        entry = {"side": "server", **entry}
        self.log_file.write(json.dumps(entry, sort_keys=True) + "\n")
        self.log_file.flush()

    async def send(self, msg: w.Message, note: str | None = None):
        raw = msg.encode()
        self.seq += 1
        entry = {"seq": self.seq, "dir": "s2c", **w.describe(msg, raw)}
        if note:
            entry["note"] = note
        self.log(entry)
        self.writer.write(raw)
        await self.writer.drain()

    def new_id(self) -> bytes:
        self.next_id += 1
        return self.next_id.to_bytes(4, "big")

    # --- the payloads the server pushes ------------------------------------------------

    def madrid_reply(self, msg_id: bytes) -> bytes:
        return plistlib.dumps(
            {
                "c": 100,
                "E": "pair-ec",
                "ua": "[iPhone OS,17.5.1,21F90,iPhone14,5]",
                "v": 8,
                "i": int.from_bytes(msg_id, "big"),
                "U": self.rng.randbytes(16),
                "sP": "tel:+15555550123",
                "tP": "mailto:alice@example.com",
                "t": self.peer_token,
                "P": self.rng.randbytes(120),
                "sT": self.rng.randbytes(32),
                "D": True,
            },
            fmt=plistlib.FMT_BINARY,
            sort_keys=False,
        )

    def gamed_payload(self) -> bytes:
        return json.dumps(
            {"aps": {"alert": {"title": "Game Center", "body": "Bob challenged you"}, "badge": 1},
             "gc": {"t": 3}},
            separators=(",", ":"),
        ).encode()

    def push(self, topic: str, payload: bytes, msg_id: bytes, priority: int) -> w.Message:
        now = time.time()
        return w.Message(
            0x0A,
            [
                w.Item(1, self.base_token),
                w.Item(2, w.topic_hash(topic)),
                w.Item(3, payload),
                w.Item(4, msg_id),
                w.Item(5, (int(now) + 86400).to_bytes(4, "big")),
                w.Item(6, int(now * 1e9).to_bytes(8, "big")),
                w.Item(13, bytes([priority])),
            ],
        )

    # --- reactions ---------------------------------------------------------------------

    async def on_message(self, msg: w.Message):
        c = msg.command
        if c == 0x07:
            await self.send(
                w.Message(
                    0x08,
                    [
                        w.Item(1, b"\x00"),  # status: ok
                        w.Item(3, self.base_token),
                        w.Item(4, (4096).to_bytes(2, "big")),  # max message size
                        w.Item(5, b"\x00\x02"),
                        w.Item(6, b"\x01"),  # capabilities
                        w.Item(8, (15360).to_bytes(2, "big")),  # large message size
                        w.Item(10, int(time.time() * 1000).to_bytes(8, "big")),  # server time ms
                    ],
                )
            )
        elif c == 0x0A:
            msg_id = msg.get(4) or b"\0\0\0\0"
            await self.send(w.Message(0x0B, [w.Item(4, msg_id), w.Item(8, b"\x00")]), "ack of the client's message")
            topic = w.TOPIC_BY_HASH.get(msg.get(1) or b"") or w.TOPIC_BY_HASH.get(msg.get(2) or b"")
            if topic == "com.apple.madrid" and self.madrid_reply_id is None:
                self.madrid_reply_id = self.new_id()
                await self.send(
                    self.push("com.apple.madrid", self.madrid_reply(self.madrid_reply_id), self.madrid_reply_id, 10),
                    "iMessage reply",
                )
        elif c == 0x0B:
            if msg.get(4) == self.madrid_reply_id and self.gamed_push_id is None:
                self.gamed_push_id = self.new_id()
                await self.send(self.push("com.apple.gamed", self.gamed_payload(), self.gamed_push_id, 5), "app push")
        elif c == 0x0C:
            await self.send(w.Message(0x0D, []))
        elif c == 0x11:
            await self.send(
                w.Message(
                    0x12,
                    [w.Item(1, b"\x00"), w.Item(2, self.rng.randbytes(32)), w.Item(3, msg.get(2) or b"")],
                )
            )
        # 0x09 FilterTopics, 0x14 SetActiveState: nothing to answer

    def check_connect(self, msg: w.Message) -> dict:
        cert_der, nonce, sig = msg.get(12), msg.get(13), msg.get(14)
        if not (cert_der and nonce and sig):
            return {"signature": "missing"}
        try:
            cert = x509.load_der_x509_certificate(cert_der)
            if not sig.startswith(b"\x01\x01"):
                return {"signature": "bad prefix"}
            cert.public_key().verify(sig[2:], nonce, padding.PKCS1v15(), hashes.SHA1())
            return {"signature": "valid", "nonce_time_ms": int.from_bytes(nonce[1:9], "big")}
        except (ValueError, InvalidSignature) as e:
            return {"signature": f"invalid: {e!r}"}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.writer = writer
        self.log(connection_event(writer, self.sni))
        buf = bytearray()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buf += data
                for msg, raw in w.split_messages(buf):
                    self.seq += 1
                    entry = {"seq": self.seq, "dir": "c2s", **w.describe(msg, raw)}
                    if msg.command == 0x07:
                        entry["check"] = self.check_connect(msg)
                    self.log(entry)
                    await self.on_message(msg)
        except (ConnectionError, ssl.SSLError) as e:
            self.log({"event": "error", "error": repr(e)})
        self.log({"event": "closed", "leftover": bytes(buf).hex()})
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass
        self.done.set()


def server_context(dirname: str, on_sni) -> ssl.SSLContext:
    """TLS server context: a fresh self-signed certificate for courier.push.apple.com, ALPN
    apns-security-v3; on_sni(name) is called with the client's server name."""
    certfile, keyfile = make_cert(dirname)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    ctx.set_alpn_protocols([ALPN])
    ctx.sni_callback = lambda _sslobj, name, _ctx: on_sni(name)
    return ctx


async def serve_once(handle, port: int, ctx: ssl.SSLContext | None, done: asyncio.Event, log, timeout: float):
    """Listens on HOST:port, prints READY, and returns once done is set; logs a timeout
    event through log and exits with status 2 after timeout seconds."""
    srv = await asyncio.start_server(handle, HOST, port, ssl=ctx)
    print(f"READY {HOST} {port}", flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        log({"event": "timeout"})
        srv.close()
        sys.exit(2)
    srv.close()
    await srv.wait_closed()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=5223)
    ap.add_argument("--log", required=True)
    ap.add_argument("--seed", type=int, default=5223)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--plain", action="store_true", help="no TLS: the courier bytes in clear")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as d, open(args.log, "w") as log:
        server = Server(log, args.seed)
        ctx = None if args.plain else server_context(d, lambda name: setattr(server, "sni", name))
        await serve_once(server.handle, args.port, ctx, server.done, server.log, args.timeout)


if __name__ == "__main__":
    asyncio.run(main())
