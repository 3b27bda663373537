#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/seed-<hash> from the test fixtures.

Sources: the captures the golden tests generate (harvested by harvest-fixtures.sh into
tests/fuzz/fixtures/), samples/*.pcap, the shared real captures (../shared/captures, when
present) and the bplist fixtures tests/data/bplist/*.bplist.

Per target (bodies in src/core/fuzz_bodies.rs):
  snatmap         16-byte UDP payloads
  apns_framing    TCP payloads on 5223 and each direction's reassembled first 4 KiB
  apns_items      the single APNs messages cut from those streams
  bplist          *.bplist fixtures and every embedded "bplist0" in an APNs payload
  mux_classifier  UDP payloads on 5060/16393-16472 (and 5678), plus each capture's datagrams
                  as one length-prefixed sequence (the call tracker part)
  mptcp_options   TCP options areas with a kind-30 option, and whole frames of MPTCP captures
  mptcp_state     each MPTCP capture's segments in the body's record format
  apns_packed     the packed-framing oracle sessions (tests/data/apns-packed/*.jsonl): the
                  messages each side received, in order, in the body's record format

  tests/fuzz/make_corpus.py [--fixtures DIR] [--max-per-target N] [--targets T,T..]
"""

import argparse
import glob
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pcaplib  # noqa: E402

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGETS = ["snatmap", "apns_framing", "apns_items", "bplist", "mux_classifier", "mptcp_options", "mptcp_state", "apns_packed"]
MAX_LEN = 8192


def captures(fixtures):
    return pcaplib.base_captures(ROOT, fixtures)


def apns_messages(stream):
    out, off = [], 0
    while off + 5 <= len(stream):
        n = struct.unpack(">I", stream[off + 1:off + 5])[0]
        if n > len(stream) - off - 5:
            break
        out.append(stream[off:off + 5 + n])
        off += 5 + n
    return out


def mptcp_records(linktype, pkts):
    hosts, ports, out = {}, {}, bytearray()
    last = None
    for ts, f in pkts:
        d = pcaplib.decode(linktype, f)
        if not d or d["proto"] != "tcp":
            continue
        hi = lambda k, t: t.setdefault(k, len(t) % 4)  # noqa: E731
        h = hi(d["src"], hosts) | hi(d["dst"], hosts) << 2 | hi(d["sport"], ports) << 4 | hi(d["dport"], ports) << 6
        step = 0 if last is None else min(255, max(0, (ts - last) // 10_000_000))
        last = ts
        opts = d["options"][:40]
        out += struct.pack(">BBIIHBB", d["flags"], h, d["seq"], d["ack"], min(len(d["payload"]), 0xFFFF), step, len(opts))
        out += opts
        if len(out) > MAX_LEN:
            break
    return bytes(out)


def packed_record(msgs):
    """The apns_packed body's input: default sizes, then (direction, length, message)."""
    out = bytearray([0])
    for d, m in msgs:
        if len(m) < 127:
            out.append(len(m) << 1 | d)
        else:
            out.append(127 << 1 | d)
            out += struct.pack(">H", len(m))
        out += m
    return bytes(out)


def packed_seeds(add):
    import json

    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "apns-packed", "*.client.jsonl"))):
        rows = [json.loads(l) for f in (p, p.replace(".client.", ".server.")) for l in open(f)]
        got = [r for r in rows if r.get("event") == "received"]
        # Each side's own order; the two directions' caches are separate.
        c2s = [(0, bytes.fromhex(r["raw"])) for r in got if r["dir"] == "c2s"]
        s2c = [(1, bytes.fromhex(r["raw"])) for r in got if r["dir"] == "s2c"]
        for n in (2, 6, 20):
            add("apns_packed", packed_record(s2c[:n]))
            add("apns_packed", packed_record(c2s[:n]))
        mixed = [m for pair in zip(c2s, s2c) for m in pair]
        add("apns_packed", packed_record(mixed[:40]))
        for m in s2c[:10]:
            add("apns_packed", packed_record([m]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "tests", "fuzz", "fixtures"))
    ap.add_argument("--max-per-target", type=int, default=200)
    ap.add_argument("--out", default=os.path.join(ROOT, "fuzz", "corpus"))
    ap.add_argument("--targets", default=",".join(TARGETS), help="only rewrite these corpora")
    a = ap.parse_args()
    seeds = {t: {} for t in TARGETS}

    def add(t, b):
        if b and len(b) <= (80_000 if t == "bplist" else MAX_LEN):
            seeds[t].setdefault(hashlib.sha1(b).hexdigest()[:16], b)

    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "bplist", "*.bplist"))):
        add("bplist", open(p, "rb").read())
    for path in captures(a.fixtures):
        try:
            linktype, pkts = pcaplib.read_packets(path)
        except Exception as e:  # a deliberately broken fixture
            print(f"skip {path}: {e}", file=sys.stderr)
            continue
        streams, seq, mptcp = {}, bytearray(), False
        for _ts, f in pkts:
            d = pcaplib.decode(linktype, f)
            if not d:
                continue
            pl = d["payload"]
            if d["proto"] == "udp":
                if len(pl) == 16:
                    add("snatmap", pl)
                ports = (d["sport"], d["dport"])
                if any(p in (5060, 5678) or 16393 <= p <= 16472 for p in ports):
                    add("mux_classifier", pl)
                    sel = (hash(d["src"]) & 3) | (hash(d["dst"]) & 3) << 2
                    if len(seq) < MAX_LEN:
                        seq += struct.pack(">BH", sel, len(pl)) + pl
            else:
                if b"\x1e" in d["options"]:
                    mptcp = True
                    add("mptcp_options", d["options"])
                # Courier streams: the APNs ports of the tests (5223; 15223/15224 where only
                # the heuristic or Decode As finds them) or any stream whose first payload
                # byte is a command (0x00-0x1f).
                key = (d["src"], d["sport"], d["dst"], d["dport"])
                apns_port = any(p in (5223, 15223, 15224) for p in (d["sport"], d["dport"]))
                if pl and not b"\x1e" in d["options"] and (apns_port or key in streams or pl[0] < 0x20):
                    add("apns_framing", pl[:MAX_LEN])
                    streams.setdefault(key, bytearray())
                    if len(streams[key]) < 65536:
                        streams[key] += pl
        for s in streams.values():
            s = bytes(s)
            add("apns_framing", s[:4096])
            for m in apns_messages(s):
                add("apns_items", m)
                i = m.find(b"bplist0")
                if i >= 0:
                    add("bplist", m[i:])
        if seq:
            add("mux_classifier", bytes(seq))
        if mptcp:
            for _ts, f in pkts[:64]:
                add("mptcp_options", f)
            add("mptcp_state", mptcp_records(linktype, pkts))
            # Also the first segments only: small seeds mutate faster.
            add("mptcp_state", mptcp_records(linktype, pkts[:12]))
    packed_seeds(add)
    for t in a.targets.split(","):
        d = os.path.join(a.out, t)
        os.makedirs(d, exist_ok=True)
        for old in glob.glob(os.path.join(d, "seed-*")):
            os.remove(old)
        items = sorted(seeds[t].items(), key=lambda kv: (len(kv[1]), kv[0]))
        # Keep the smallest ones, but always the largest few (whole streams, big plists).
        keep = items[: a.max_per_target - 5] + items[max(a.max_per_target - 5, len(items) - 5):]
        for h, b in keep:
            open(os.path.join(d, "seed-" + h), "wb").write(b)
        print(f"{t}: {len(keep)} seeds ({sum(len(b) for _, b in keep)} bytes) of {len(items)}")


if __name__ == "__main__":
    main()
