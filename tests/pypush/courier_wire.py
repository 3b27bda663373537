"""Courier (APNs, ALPN apns-security-v3) framing for the test server and the truth log.

Written independently of pypush: the server parses and builds the bytes itself, so the
client's view (pypush's classes) and the server's view can be compared.

Message: 1 byte command, 4 bytes big-endian payload length, then items:
1 byte id, 2 bytes big-endian length, value.
"""

from __future__ import annotations

import hashlib
import json
import plistlib
from dataclasses import dataclass, field

COMMANDS = {
    0x07: "Connect",
    0x08: "ConnectResponse",
    0x09: "FilterTopics",
    0x0A: "Message",
    0x0B: "MessageAck",
    0x0C: "KeepAlive",
    0x0D: "KeepAliveAck",
    0x0E: "NoStorage",
    0x0F: "Flush",
    0x10: "FlushResponse",
    0x11: "ScopedTokenRequest",
    0x12: "ScopedTokenResponse",
    0x14: "SetActiveState",
}

# Topics the session uses (name -> SHA-1); the server resolves hashes with this table only.
TOPICS = [
    "com.apple.madrid",
    "com.apple.ess",
    "com.apple.gamed",
    "com.apple.private.alloy.sms",
    "com.apple.icloud-container.com.apple.findmy",
    "dev.jjtech.pypush.tests",
]
TOPIC_BY_HASH = {hashlib.sha1(t.encode()).digest(): t for t in TOPICS}


def topic_hash(name: str) -> bytes:
    return hashlib.sha1(name.encode()).digest()


@dataclass
class Item:
    id: int
    value: bytes


@dataclass
class Message:
    command: int
    items: list[Item] = field(default_factory=list)

    def encode(self) -> bytes:
        body = b"".join(
            bytes([i.id]) + len(i.value).to_bytes(2, "big") + i.value for i in self.items
        )
        return bytes([self.command]) + len(body).to_bytes(4, "big") + body

    def get(self, item_id: int) -> bytes | None:
        for i in self.items:
            if i.id == item_id:
                return i.value
        return None

    def all(self, item_id: int) -> list[bytes]:
        return [i.value for i in self.items if i.id == item_id]


class FramingError(Exception):
    pass


def parse_items(body: bytes) -> list[Item]:
    items = []
    off = 0
    while off < len(body):
        if off + 3 > len(body):
            raise FramingError(f"truncated item header at {off}")
        iid = body[off]
        ilen = int.from_bytes(body[off + 1 : off + 3], "big")
        if off + 3 + ilen > len(body):
            raise FramingError(f"item {iid} length {ilen} overruns message")
        items.append(Item(iid, body[off + 3 : off + 3 + ilen]))
        off += 3 + ilen
    return items


def split_messages(buf: bytearray) -> list[tuple[Message, bytes]]:
    """Removes every complete message from buf; returns (message, its raw bytes)."""
    out = []
    while len(buf) >= 5:
        length = int.from_bytes(buf[1:5], "big")
        if len(buf) < 5 + length:
            break
        raw = bytes(buf[: 5 + length])
        del buf[: 5 + length]
        out.append((Message(raw[0], parse_items(raw[5:])), raw))
    return out


# --- decoding for the logs -------------------------------------------------------------

def jsonable(v):
    """plist / JSON values -> JSON-able (bytes as {"hex": ...}, dates as ISO text)."""
    if isinstance(v, bytes):
        return {"hex": v.hex()}
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, plistlib.UID):
        return {"uid": v.data}
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def decode_payload(value: bytes):
    if value.startswith(b"bplist00"):
        return {"format": "bplist", "value": jsonable(plistlib.loads(value))}
    try:
        return {"format": "json", "value": json.loads(value)}
    except ValueError:
        return {"format": "binary"}


INT_ITEMS = {
    # command: {item id: expected length}
    0x07: {2: 1, 5: 4, 6: 1, 16: 2, 17: 2, 19: 2, 20: 2, 22: 8},
    0x08: {1: 1, 4: 2, 8: 2, 10: 8, 12: 8},
    0x0A: {4: 4, 5: 4, 6: 8, 9: 1, 13: 1},
    0x0B: {4: 4, 8: 1},
    0x12: {1: 1},
    0x14: {1: 1, 2: 4},
}
TEXT_ITEMS = {0x07: {8, 9, 10, 11}, 0x08: {11}, 0x0C: {1, 2, 3, 4}}


def describe_item(command: int, item: Item) -> dict:
    d = {"id": item.id, "len": len(item.value), "hex": item.value.hex()}
    v = item.value
    if command in INT_ITEMS and INT_ITEMS[command].get(item.id) == len(v):
        d["int"] = int.from_bytes(v, "big")
    if item.id in TEXT_ITEMS.get(command, ()):
        d["text"] = v.decode("utf-8", "replace")
    if len(v) == 20 and command in (0x09, 0x0A, 0x11, 0x12) and v in TOPIC_BY_HASH:
        d["topic"] = TOPIC_BY_HASH[v]
    if command == 0x0A and item.id == 3:
        d["payload"] = decode_payload(v)
    return d


def describe(msg: Message, raw: bytes) -> dict:
    return {
        "command": msg.command,
        "name": COMMANDS.get(msg.command, f"Unknown({msg.command})"),
        "length": len(raw) - 5,
        "raw": raw.hex(),
        "items": [describe_item(msg.command, i) for i in msg.items],
    }
