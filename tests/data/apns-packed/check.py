#!/usr/bin/env python3
"""Checks one oracle session (make.sh runs it): both sides logged the same messages.

    check.py PREFIX        (PREFIX.client.jsonl, PREFIX.server.jsonl)

Every message one side sent is, in order, a message the other side received: same bytes,
same command, and the attributes the receiver decoded (keys and values) are the ones the
sender built. Exits non-zero otherwise.
"""
import json
import sys


def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8")]


def strip(v):
    """A value without where its keys and values came from (what the sender built)."""
    if v["type"] == "dict":
        return {"type": "dict", "attrs": [{"key": a["key"], "value": strip(a["value"])} for a in v["attrs"]]}
    if v["type"] == "array":
        return {"type": "array", "items": [strip(i) for i in v["items"]]}
    return v


prefix = sys.argv[1]
client, server = load(prefix + ".client.jsonl"), load(prefix + ".server.jsonl")
n = 0
for sender, receiver, d in ((client, server, "c2s"), (server, client, "s2c")):
    sent = [m for m in sender if m.get("event") == "sent"]
    got = [m for m in receiver if m.get("event") == "received"]
    assert len(sent) == len(got), f"{d}: {len(sent)} sent, {len(got)} received"
    for s, r in zip(sent, got):
        assert s["dir"] == r["dir"] == d
        assert s["raw"] == r["raw"], f"{d} seq {s['seq']}: bytes differ"
        assert s["command"] == r["command"]
        want = [{"key": a["key"], "value": strip(a["value"])} for a in s["attributes"]]
        have = [{"key": a["key"], "value": strip(a["value"])} for a in r["attributes"]]
        assert want == have, f"{d} seq {s['seq']}: attributes differ"
        n += 1
print(f"{prefix}: {n} messages, both sides agree")
