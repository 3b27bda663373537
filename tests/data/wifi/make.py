#!/usr/bin/env python3
"""Re-encapsulates samples/mptcp-demo.pcap (Ethernet) in the link layers an iPhone capture
comes in, for tests/link_layers.rs:

  mptcp-demo-80211.pcap     IEEE 802.11 data frames in clear (LINKTYPE_IEEE802_11, 105)
  mptcp-demo-radiotap.pcap  the same behind a radiotap header (127), QoS data frames
  mptcp-demo-pktap.pcap     Apple PKTAP (258) around the Ethernet frames (macOS pktap/rvictl)
  mptcp-demo-wpa2.pcap      WPA2-PSK (CCMP): EAPOL 4-way handshake messages 1 and 2, then
                            every frame encrypted; PMK in mptcp-demo-wpa2.pmk (hex)

Every IP packet is carried unchanged; the station is the side that sent the first SYN.
Written with Python's standard library and `cryptography` (AES-CCM), from IEEE 802.11-2020
§12.5.3 (CCMP) and §12.7 (PRF, 4-way handshake); run from this folder:
    python3 make.py
SPDX-License-Identifier: GPL-2.0-or-later
"""
import hashlib, hmac, struct
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

SRC = "../../../samples/mptcp-demo.pcap"
STA = bytes.fromhex("02a0b0c0d0e0")
AP = bytes.fromhex("02f0e0d0c0b0")
SSID, PASSPHRASE = b"appleshark", b"correct horse battery"


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), hex(magic)
    assert struct.unpack("<I", data[20:24])[0] == 1, "Ethernet expected"
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        out.append((sec, frac, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return magic, out


def write_pcap(path, magic, linktype, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
        for sec, frac, b in recs:
            f.write(struct.pack("<IIII", sec, frac, len(b), len(b)) + b)


LLC_IP = bytes.fromhex("aaaa03000000")


def dot11(to_ap, body, qos=False, protected=False, seq=0):
    fc0 = 0x88 if qos else 0x08
    flags = (0x01 if to_ap else 0x02) | (0x40 if protected else 0)
    a1, a2, a3 = (AP, STA, AP) if to_ap else (STA, AP, AP)
    h = bytes([fc0, flags]) + b"\x00\x00" + a1 + a2 + a3 + struct.pack("<H", (seq & 0xFFF) << 4)
    if qos:
        h += b"\x00\x00"
    return h + body


def prf(key, label, data, nbytes):
    out, i = b"", 0
    while len(out) < nbytes:
        out += hmac.new(key, label + b"\x00" + data + bytes([i]), hashlib.sha1).digest()
        i += 1
    return out[:nbytes]


def eapol_key(info, key_len, nonce, data=b"", mic=b"\x00" * 16):
    body = struct.pack(">BHHQ", 2, info, key_len, 1) + nonce + b"\x00" * 16 + b"\x00" * 8 + b"\x00" * 8 + mic
    body += struct.pack(">H", len(data)) + data
    return struct.pack(">BBH", 2, 3, len(body)) + body


def main():
    magic, recs = read_pcap(SRC)
    # The station: the sender of the first SYN (IPv4 source of a frame with SYN and no ACK).
    sta_ips = set()
    for _, _, b in recs:
        ip = b[14:]
        if b[12:14] == b"\x08\x00" and ip[9] == 6:
            tcp = ip[(ip[0] & 15) * 4:]
            if tcp[13] & 0x12 == 0x02:
                sta_ips.add(ip[12:16])
    def to_ap(b):
        return b[26:30] in sta_ips

    plain = [(s, f, dot11(to_ap(b), LLC_IP + b[12:14] + b[14:], seq=i)) for i, (s, f, b) in enumerate(recs)]
    write_pcap("mptcp-demo-80211.pcap", magic, 105, plain)
    rt = b"\x00\x00\x08\x00\x00\x00\x00\x00"
    write_pcap("mptcp-demo-radiotap.pcap", magic, 127,
               [(s, f, rt + dot11(to_ap(b), LLC_IP + b[12:14] + b[14:], qos=True, seq=i)) for i, (s, f, b) in enumerate(recs)])
    pktap = struct.pack("<III", 108, 1, 1) + b"\x00" * 96
    write_pcap("mptcp-demo-pktap.pcap", magic, 258, [(s, f, pktap + b) for s, f, b in recs])

    # WPA2-PSK: PMK, then PTK from the two nonces (CCMP: KCK 16, KEK 16, TK 16 bytes).
    pmk = hashlib.pbkdf2_hmac("sha1", PASSPHRASE, SSID, 4096, 32)
    anonce = hashlib.sha256(b"anonce").digest()
    snonce = hashlib.sha256(b"snonce").digest()
    ptk = prf(pmk, b"Pairwise key expansion",
              min(AP, STA) + max(AP, STA) + min(anonce, snonce) + max(anonce, snonce), 48)
    kck, tk = ptk[:16], ptk[32:48]
    m1 = eapol_key(0x008A, 16, anonce)
    rsn = bytes.fromhex("30140100000fac040100000fac040100000fac020000")
    m2 = eapol_key(0x010A, 0, snonce, rsn)
    mic = hmac.new(kck, m2, hashlib.sha1).digest()[:16]
    m2 = m2[:81] + mic + m2[97:]
    llc_eapol = bytes.fromhex("aaaa03000000888e")
    s0, f0, _ = recs[0]
    hs = [(s0 - 1, f0, dot11(False, llc_eapol + m1, seq=0)), (s0 - 1, f0 + 1000, dot11(True, llc_eapol + m2, seq=0))]
    ccm = AESCCM(tk, tag_length=8)
    pn = {True: 0, False: 0}
    enc = []
    for i, (s, f, b) in enumerate(recs):
        up = to_ap(b)
        pn[up] += 1
        hdr = dot11(up, b"", protected=True, seq=i + 1)
        p = pn[up].to_bytes(6, "little")
        ccmp = p[0:2] + b"\x00\x20" + p[2:6]
        nonce = b"\x00" + hdr[10:16] + pn[up].to_bytes(6, "big")
        aad = bytes([hdr[0] & 0x8F, (hdr[1] & 0xC7) | 0x40]) + hdr[4:22] + bytes([hdr[22] & 0x0F, 0])
        enc.append((s, f, hdr + ccmp + ccm.encrypt(nonce, LLC_IP + b[12:14] + b[14:], aad)))
    write_pcap("mptcp-demo-wpa2.pcap", magic, 105, hs + enc)
    open("mptcp-demo-wpa2.pmk", "w").write(pmk.hex() + "\n")


if __name__ == "__main__":
    main()
