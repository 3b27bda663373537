"""Minimal pcap / pcapng reading and writing for the fuzzing scripts (no dependencies).

read_packets(path) -> (linktype, [(ts_ns, bytes)]); decode(linktype, frame) -> the IP/UDP/TCP
fields the generators need, with the offsets of the transport payload in the frame.
"""

import glob
import os
import struct

LINK_ETHERNET, LINK_NULL, LINK_RAW, LINK_LOOP, LINK_SLL, LINK_IPV4, LINK_IPV6, LINK_SLL2 = 1, 0, 101, 108, 113, 228, 229, 276


def base_captures(root, fixtures):
    """The fuzzing bases, in a fixed order: the harvested fixtures, samples/, and the shared
    real captures (../shared/captures or /work/shared/captures) when present."""
    paths = sorted(glob.glob(os.path.join(fixtures, "*.pcap*")))
    paths += sorted(glob.glob(os.path.join(root, "samples", "*.pcap*")))
    for shared in (os.path.join(root, "..", "shared", "captures"), "/work/shared/captures"):
        if os.path.isdir(shared):
            paths += sorted(glob.glob(os.path.join(shared, "*.pcap*")))
            break
    return paths


def read_packets(path):
    data = open(path, "rb").read()
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return _read_pcapng(data)
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(f"{path}: not a capture")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        out.append((sec * 10**9 + (frac if nano else frac * 1000), data[off:off + incl]))
        off += incl
    return linktype, out


def _read_pcapng(data):
    off, linktype, out, e = 0, None, [], "<"
    while off + 12 <= len(data):
        btype = struct.unpack(e + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        if blen < 12:
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1 and linktype is None:
            linktype = struct.unpack(e + "H", body[:2])[0]
        elif btype == 6:
            _ifid, hi, lo, incl, _orig = struct.unpack(e + "IIIII", body[:20])
            out.append((((hi << 32) | lo) * 1000, body[20:20 + incl]))
        off += blen
    return linktype, out


def write_pcap(path, linktype, packets):
    """Classic pcap, nanosecond timestamps."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        for ts, pkt in packets:
            f.write(struct.pack("<IIII", ts // 10**9 % 2**32, ts % 10**9, len(pkt), len(pkt)))
            f.write(pkt)


def write_pcapng(path, packets):
    """pcapng with one interface per link type, for captures mixing link types:
    packets = [(linktype, ts_ns, bytes)]; nanosecond timestamps (if_tsresol 9)."""
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    ifaces = {}
    for lt, _, _ in packets:
        ifaces.setdefault(lt, len(ifaces))
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        for lt in ifaces:
            tsresol = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
            f.write(block(1, struct.pack("<HHI", lt, 0, 262144) + tsresol))
        for lt, ts, pkt in packets:
            body = struct.pack("<IIIII", ifaces[lt], ts >> 32, ts & 0xFFFFFFFF, len(pkt), len(pkt)) + pkt
            f.write(block(6, body))


def decode(linktype, f):
    """dict(proto='tcp'|'udp', src, dst, sport, dport, l4_off, hdr_len, payload_off, payload,
    flags, seq, ack, options, options_off) or None."""
    if linktype == LINK_ETHERNET:
        off, et = 14, f[12:14]
        while et in (b"\x81\x00", b"\x88\xa8") and len(f) >= off + 4:
            et, off = f[off + 2:off + 4], off + 4
        if et not in (b"\x08\x00", b"\x86\xdd"):
            return None
    elif linktype == LINK_SLL:
        off = 16
    elif linktype == LINK_SLL2:
        off = 20
    elif linktype in (LINK_NULL, LINK_LOOP):
        off = 4
    elif linktype in (LINK_RAW, LINK_IPV4, LINK_IPV6):
        off = 0
    else:
        return None
    if len(f) < off + 20:
        return None
    v = f[off] >> 4
    if v == 4:
        ihl = (f[off] & 15) * 4
        proto, src, dst = f[off + 9], f[off + 12:off + 16], f[off + 16:off + 20]
        total = struct.unpack(">H", f[off + 2:off + 4])[0]
        l4, end = off + ihl, min(len(f), off + total)
    elif v == 6:
        if len(f) < off + 40:
            return None
        proto, src, dst = f[off + 6], f[off + 8:off + 24], f[off + 24:off + 40]
        l4, end = off + 40, min(len(f), off + 40 + struct.unpack(">H", f[off + 4:off + 6])[0])
    else:
        return None
    d = dict(ip_off=off, src=src, dst=dst, l4_off=l4)
    if proto == 17 and len(f) >= l4 + 8:
        sport, dport = struct.unpack(">HH", f[l4:l4 + 4])
        d.update(proto="udp", sport=sport, dport=dport, payload_off=l4 + 8, payload=f[l4 + 8:end])
        return d
    if proto == 6 and len(f) >= l4 + 20:
        sport, dport, seq, ack = struct.unpack(">HHII", f[l4:l4 + 12])
        hl = (f[l4 + 12] >> 4) * 4
        if hl < 20 or len(f) < l4 + hl:
            return None
        d.update(proto="tcp", sport=sport, dport=dport, seq=seq, ack=ack, flags=f[l4 + 13], hdr_len=hl,
                 options_off=l4 + 20, options=f[l4 + 20:l4 + hl], payload_off=l4 + hl, payload=f[l4 + hl:end])
        return d
    return None
