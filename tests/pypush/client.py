#!/usr/bin/env python3
"""The pypush side of the capture test: pypush.apns's transport and command classes talking
to courier_server.py on 127.0.0.1.

What comes from pypush (2.0.2, unmodified):
- pypush.apns.transport.create_courier_connection: the TLS connection (ssl default context,
  ALPN apns-security-v3, SNI courier.push.apple.com, certificate checks off) and
  PacketStream, the framing (serialise / parse);
- pypush.apns.protocol: ConnectCommand, ConnectAck, FilterCommand, SetStateCommand,
  SendMessageCommand, SendMessageAck, ScopedTokenCommand, ScopedTokenAck, KeepAliveCommand,
  KeepAliveAck and command_from_packet (to_packet / from_packet for every message).
- The Connect is built exactly as pypush.apns.lifecycle.Connection.reconnect builds it
  (state 1, flags 65, DER certificate, nonce 0x00 + ms time + 8 random bytes, signature
  0x01 0x01 + RSA PKCS#1 v1.5 SHA-1 of the nonce), acks exactly as Connection.ack does.

What is redirected, and how: create_courier_connection(courier="127.0.0.1") instead of a
random N-courier.push.apple.com (a documented parameter, no patch); the SNI stays
courier.push.apple.com. The port is pypush's COURIER_PORT (5223); only when --port asks for
another one is pypush.apns.transport.COURIER_PORT set to it. The TLS key log comes from
ssl.create_default_context(), which honours SSLKEYLOGFILE (set by run_session.py).

Why not lifecycle.Connection itself: it starts its receive, reconnect and 30 s ping tasks
concurrently, and its first FilterTopics races with the caller's (both may or may not carry
the caller's topics), which a golden test cannot pin down. The steps below are the same
commands in a fixed order.

Logs every message sent and received as a JSON line (class, pypush's field values, raw bytes).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import plistlib
import random
import sys
import time

import anyio
from anyio.streams.tls import TLSAttribute
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from pypush.apns import protocol, transport

HOST = "127.0.0.1"  # loopback only


def sha1(s: str) -> bytes:
    return hashlib.sha1(s.encode()).digest()


def jsonable(v):
    if isinstance(v, bytes):
        return {"hex": v.hex()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if hasattr(v, "value") and hasattr(v, "name"):  # Enum
        return v.value
    return v


def command_fields(cmd) -> dict:
    return {f.name: jsonable(getattr(cmd, f.name)) for f in dataclasses.fields(cmd)}


class Client:
    def __init__(self, log, seed: int):
        self.log_file = log
        self.rng = random.Random(seed)
        self.seq = 0
        self.stream: transport.PacketStream | None = None

    def log(self, entry: dict):
        self.log_file.write(json.dumps({"side": "client", **entry}, sort_keys=True) + "\n")
        self.log_file.flush()

    async def send(self, cmd: protocol.Command):
        packet = cmd.to_packet()
        raw = self.stream._serialize_packet(packet)
        self.seq += 1
        self.log({"seq": self.seq, "dir": "c2s", "class": type(cmd).__name__, "command": packet.id.value,
                  "raw": raw.hex(), "fields": command_fields(cmd)})
        await self.stream.send(packet)

    async def receive(self) -> protocol.Command:
        packet = await self.stream.receive()
        raw = self.stream._serialize_packet(packet)
        cmd = protocol.command_from_packet(packet)
        self.seq += 1
        self.log({"seq": self.seq, "dir": "s2c", "class": type(cmd).__name__, "command": packet.id.value,
                  "raw": raw.hex(), "fields": command_fields(cmd)})
        return cmd

    async def expect(self, cls):
        with anyio.fail_after(10):
            cmd = await self.receive()
        if not isinstance(cmd, cls):
            raise RuntimeError(f"expected {cls.__name__}, got {cmd!r}")
        return cmd

    def device_identity(self):
        # Stands in for the certificate pypush.apns.albert.activate would fetch from Apple.
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "appleshark-test-device")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        return cert, key

    def imessage(self, msg_id: bytes, token: bytes) -> bytes:
        return plistlib.dumps(
            {
                "c": 100,
                "E": "pair-ec",
                "ua": "[macOS,14.5,23F79,MacBookPro18,3]",
                "v": 8,
                "i": int.from_bytes(msg_id, "big"),
                "U": self.rng.randbytes(16),
                "sP": "mailto:alice@example.com",
                "tP": "tel:+15555550123",
                "t": token,
                "P": self.rng.randbytes(96),
                "sT": self.rng.randbytes(32),
                "D": False,
            },
            fmt=plistlib.FMT_BINARY,
            sort_keys=False,
        )

    async def run(self, port: int):
        if port != transport.COURIER_PORT:
            transport.COURIER_PORT = port  # the one patch, only for a non-default port
        cert, key = self.device_identity()
        self.stream = await transport.create_courier_connection(sandbox=False, courier=HOST)
        tls = self.stream.transport_stream
        self.log({"event": "tls", "alpn": tls.extra(TLSAttribute.alpn_protocol),
                  "version": tls.extra(TLSAttribute.tls_version), "cipher": tls.extra(TLSAttribute.cipher)[0],
                  "sni": tls.extra(TLSAttribute.ssl_object).server_hostname, "port": port})

        # Connect, as lifecycle.Connection.reconnect does it (no cached token).
        nonce = b"\x00" + int(time.time() * 1000).to_bytes(8, "big") + random.randbytes(8)
        signature = b"\x01\x01" + key.sign(nonce, padding.PKCS1v15(), hashes.SHA1())
        await self.send(protocol.ConnectCommand(
            push_token=None, state=1, flags=65,
            certificate=cert.public_bytes(serialization.Encoding.DER), nonce=nonce, signature=signature))
        ack = await self.expect(protocol.ConnectAck)
        assert ack.status == 0 and ack.token is not None, ack
        token = ack.token

        await self.send(protocol.FilterCommand(
            token=token,
            enabled_topic_hashes=[sha1("com.apple.madrid"), sha1("com.apple.ess"), sha1("com.apple.gamed")],
            ignored_topic_hashes=[sha1("dev.jjtech.pypush.tests")],
            opportunistic_topic_hashes=[sha1("com.apple.private.alloy.sms")],
        ))
        await self.send(protocol.SetStateCommand(state=1, unknown2=0x7FFFFFFF))

        # Send an iMessage-like message to a peer's token.
        peer_token = self.rng.randbytes(32)
        msg_id = self.rng.randbytes(4)
        await self.send(protocol.SendMessageCommand(
            payload=self.imessage(msg_id, peer_token), id=msg_id,
            topic="com.apple.madrid", token=peer_token, outgoing=True))
        sent_ack = await self.expect(protocol.SendMessageAck)
        assert sent_ack.id == msg_id and sent_ack.status == 0, sent_ack

        # Receive the reply and an app push; ack each as lifecycle.Connection.ack does.
        for topic in ("com.apple.madrid", "com.apple.gamed"):
            push = await self.expect(protocol.SendMessageCommand)
            assert push.topic == topic and push.token == token and push.outgoing is False, push
            await self.send(protocol.SendMessageAck(status=0, token=push.token, id=push.id))

        # Scoped token, as lifecycle.Connection.mint_scoped_token does it.
        await self.send(protocol.ScopedTokenCommand(
            token=token, topic=sha1("com.apple.icloud-container.com.apple.findmy")))
        scoped = await self.expect(protocol.ScopedTokenAck)
        assert scoped.status == 0, scoped

        # Keep-alive, as lifecycle.Connection._ping_task sends it (every 30 s there).
        await self.send(protocol.KeepAliveCommand())
        await self.expect(protocol.KeepAliveAck)

        # Leaving a notification stream: the filter is sent again without the topic.
        await self.send(protocol.FilterCommand(
            token=token, enabled_topic_hashes=[sha1("com.apple.madrid"), sha1("com.apple.ess")]))

        await self.stream.aclose()
        self.log({"event": "closed"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=5223)
    ap.add_argument("--log", required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with open(args.log, "w") as log:
        client = Client(log, args.seed)
        anyio.run(client.run, args.port)


if __name__ == "__main__":
    sys.exit(main())
