#!/usr/bin/env python3
"""Writes the in-epan fuzz targets' seed corpora fuzz-epan/corpus/<target>/seed-<hash> from
the fixture captures (the same bases as tests/fuzz/make_corpus.py: tests/fuzz/fixtures/,
samples/, ../shared/captures when present) and the packed-framing oracle sessions
(tests/data/apns-packed/).

Every seed is in the record format of fuzz-epan/src/frames.rs: records `ctl, u16 length,
bytes`, one frame each.

  udp_5678      each UDP flow on port 5678: its datagrams (ctl bit 0 = from the server,
                bit 1 = both ends on 5678), and each datagram alone
  udp_16402     the same for UDP flows on 16402 (and FaceTime's 16384-16472)
  tcp_5223      each TCP connection on 5223/15223/15224: its payload segments in order
                (bit 0 = from the server), and its first 1, 2 and 4
  apns_by_name  the same payloads (as TLS would hand the decrypted stream over), each of the
                first 8 alone, and the
                packed sessions' messages (bit 1: the `apns_pack` handle)
  mptcp_tcp     each capture's TCP segments that carry an MPTCP option (kind 30), with the
                segments around them: bit 0 = from the server, bits 1-2 = subflow, bit 3 SYN,
                bit 4 FIN, bit 5 RST; bytes = options length, options, payload (first 64
                bytes)

  fuzz-epan/make_seeds.py [--fixtures DIR] [--max-per-target N]
"""

import argparse
import glob
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))
import pcaplib  # noqa: E402

TARGETS = ["udp_5678", "udp_16402", "tcp_5223", "apns_by_name", "mptcp_tcp"]
MAX_LEN = 8192
MAX_RECORDS = 64


def rec(ctl, b):
    b = b[:0xFFFF]
    return bytes([ctl]) + struct.pack(">H", len(b)) + b


def join(recs):
    out = bytearray()
    for r in recs[:MAX_RECORDS]:
        if len(out) + len(r) > MAX_LEN:
            break
        out += r
    return bytes(out)


def flows(linktype, pkts, proto, ports):
    """{key: [(from_server, both_on_port, d)]} for packets of `proto` with a port in `ports`;
    the server is the end on the port (the first packet's destination when both are)."""
    out = {}
    servers = {}
    for _ts, f in pkts:
        d = pcaplib.decode(linktype, f)
        if not d or d["proto"] != proto:
            continue
        if d["sport"] not in ports and d["dport"] not in ports:
            continue
        a, b = (d["src"], d["sport"]), (d["dst"], d["dport"])
        key = tuple(sorted([a, b]))
        if key not in servers:
            servers[key] = b if d["dport"] in ports else a
        from_server = a == servers[key]
        both = d["sport"] in ports and d["dport"] in ports
        out.setdefault(key, []).append((from_server, both, d))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "tests", "fuzz", "fixtures"))
    ap.add_argument("--max-per-target", type=int, default=60)
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    a = ap.parse_args()
    seeds = {t: {} for t in TARGETS}

    def add(t, b):
        if b:
            seeds[t].setdefault(hashlib.sha1(b).hexdigest()[:16], b)

    for path in pcaplib.base_captures(ROOT, a.fixtures):
        try:
            linktype, pkts = pcaplib.read_packets(path)
        except Exception as e:  # noqa: BLE001
            print(f"skip {path}: {e}", file=sys.stderr)
            continue
        for target, ports in (("udp_5678", {5678}), ("udp_16402", {16402} | set(range(16384, 16473)))):
            for fl in flows(linktype, pkts, "udp", ports).values():
                recs = [rec(int(s) | int(both) << 1, d["payload"]) for s, both, d in fl]
                add(target, join(recs))
                for r in recs[:4]:
                    add(target, r)
        for fl in flows(linktype, pkts, "tcp", {5223, 15223, 15224}).values():
            recs = [rec(int(s), d["payload"]) for s, _b, d in fl if d["payload"]]
            for k in (1, 2, 4, MAX_RECORDS):
                add("tcp_5223", join(recs[:k]))
                add("apns_by_name", join(recs[:k]))
            for r in recs[:8]:
                add("apns_by_name", r)
        # MPTCP: the capture's TCP segments, four subflows at most, from the first with kind 30.
        sub, recs, started = {}, [], False
        for _ts, f in pkts:
            d = pcaplib.decode(linktype, f)
            if not d or d["proto"] != "tcp":
                continue
            o = d["options"]
            has_mptcp = b"\x1e" in o and any(o[i] == 30 for i in range(len(o)))
            started = started or has_mptcp
            if not started:
                continue
            a_, b_ = (d["src"], d["sport"]), (d["dst"], d["dport"])
            key = tuple(sorted([a_, b_]))
            if key not in sub:
                if len(sub) == 4:
                    continue
                client = a_ if d["flags"] & 0x12 == 0x02 or not d["flags"] & 0x02 else b_
                sub[key] = (len(sub), client)
            n, client = sub[key]
            fl = d["flags"]
            ctl = int(a_ != client) | n << 1 | (8 if fl & 2 else 0) | (0x10 if fl & 1 else 0) | (0x20 if fl & 4 else 0)
            opts = o[:40]
            recs.append(rec(ctl, bytes([len(opts)]) + opts + d["payload"][:64]))
        if recs:
            add("mptcp_tcp", join(recs))
            add("mptcp_tcp", join(recs[:8]))
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "apns-packed", "*.client.jsonl"))):
        rows = [json.loads(l) for f in (p, p.replace(".client.", ".server.")) for l in open(f)]
        got = [r for r in rows if r.get("event") == "received"]
        msgs = [rec(2 | int(r["dir"] == "s2c"), bytes.fromhex(r["raw"])) for r in got]
        add("apns_by_name", join(msgs))
        add("apns_by_name", join(msgs[:6]))

    for t in TARGETS:
        d = os.path.join(a.out, t)
        os.makedirs(d, exist_ok=True)
        for old in glob.glob(os.path.join(d, "seed-*")):
            os.remove(old)
        items = sorted(seeds[t].items(), key=lambda kv: (len(kv[1]), kv[0]))
        # Keep the largest (whole flows) and a spread of the small ones.
        if len(items) > a.max_per_target:
            step = len(items) / a.max_per_target
            items = [items[int(i * step)] for i in range(a.max_per_target - 10)] + items[-10:]
        for h, b in items:
            open(os.path.join(d, "seed-" + h), "wb").write(b)
        print(f"{t}: {len(items)} seeds, {sum(len(b) for _, b in items)} bytes")


if __name__ == "__main__":
    main()
