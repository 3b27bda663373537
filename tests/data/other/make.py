#!/usr/bin/env python3
"""Regenerates the captures of other protocols in tests/data/other/ (see README.md there).

Every capture is real traffic on the loopback interface, captured by dumpcap with a capture
filter that keeps only that exchange: servers and clients are Python sockets/ssl, openssl
s_server, curl, dig and sipp, all on 127.0.0.1/::1. Payload bytes of the generated lookalikes
come from a seeded PRNG, so their content is the same on every run (timestamps, ports chosen
by the kernel and TLS randoms are not).

Usage (as root, since dumpcap captures on lo):  python3 make.py [NAME ...]
"""

import os
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = tempfile.mkdtemp(prefix="appleshark-other-")
LO = "127.0.0.1"


# ---------------------------------------------------------------------------------------------
# capture and process helpers


class Capture:
    """`with Capture(name, bpf):` captures lo with `bpf` into tests/data/other/<name>.pcap."""

    def __init__(self, name, bpf):
        self.name, self.bpf = name, bpf
        self.tmp = os.path.join(WORK, name + ".pcap")

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["dumpcap", "-q", "-P", "-i", "lo", "-f", self.bpf, "-w", self.tmp],
            stderr=subprocess.PIPE, text=True)
        # dumpcap says "Capturing on 'Loopback: lo'" once the filter is installed.
        line = self.proc.stderr.readline()
        if "Capturing on" not in line:
            raise SystemExit(f"dumpcap did not start: {line}{self.proc.stderr.read()}")
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)
        if exc[0] is None:
            out = os.path.join(HERE, self.name + ".pcap")
            shutil.copyfile(self.tmp, out)
            os.chmod(out, 0o644)
            n = subprocess.run(["capinfos", "-c", "-M", out], capture_output=True, text=True).stdout
            count = [l.split(":")[1].strip() for l in n.splitlines() if "Number of packets" in l]
            print(f"{self.name}.pcap: {count[0] if count else '?'} packets, {os.path.getsize(out)} bytes")
        return False


def wait_port(port, proto="tcp", timeout=10):
    """Waits until something listens on 127.0.0.1:port (TCP) or just sleeps a little (UDP)."""
    if proto == "udp":
        time.sleep(0.3)
        return
    end = time.time() + timeout
    while time.time() < end:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
        if out.strip():
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def stop(proc):
    """Stops a server process this script started (by its own handle)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def udp_socket(addr=(LO, 0), family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.settimeout(3)
    return s


def tcp_exchange(port, client_msgs, server_msgs, pause=0.05):
    """A TCP connection to 127.0.0.1:port: the client sends client_msgs[i], then the server
    answers server_msgs[i] (None = nothing); then both close."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((LO, port))
    srv.listen(1)

    def serve():
        c, _ = srv.accept()
        with c:
            for i, reply in enumerate(server_msgs):
                want = len(client_msgs[i]) if i < len(client_msgs) else 0
                got = b""
                while len(got) < want:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                if reply:
                    c.sendall(reply)
            while c.recv(65536):
                pass

    t = threading.Thread(target=serve)
    t.start()
    cl = socket.create_connection((LO, port))
    cl.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i, msg in enumerate(client_msgs):
        cl.sendall(msg)
        if i < len(server_msgs) and server_msgs[i]:
            want, got = len(server_msgs[i]), b""
            while len(got) < want:
                got += cl.recv(65536)
        time.sleep(pause)
    cl.shutdown(socket.SHUT_WR)
    cl.recv(1)
    cl.close()
    t.join()
    srv.close()


# ---------------------------------------------------------------------------------------------
# UDP 5678: MikroTik MNDP


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def mndp(seq, tlvs, header=b"\x00\x00"):
    """MNDP as Wireshark's packet-mndp.c reads it: 2 header bytes, 16-bit sequence number, then
    type(16)/length(16)/value TLVs (1 MAC, 5 Identity, 7 Version, 8 Platform, 10 Uptime
    (seconds, little-endian), 11 Software-ID, 12 Board, 14 Unpack, 15 IPv6-Address,
    16 Interface name, 17 IPv4-Address)."""
    return header + struct.pack(">H", seq) + b"".join(tlv(t, v) for t, v in tlvs)


def make_mndp():
    mac = bytes.fromhex("4c5e0c112233")
    full = lambda seq, up: mndp(seq, [
        (1, mac),
        (5, b"MikroTik"),
        (7, b"6.49.10 (long-term)"),
        (8, b"MikroTik"),
        (10, struct.pack("<I", up)),
        (11, b"ABCD-1234"),
        (12, b"RB951Ui-2HnD"),
        (14, b"\x01"),
        (15, socket.inet_pton(socket.AF_INET6, "fe80::4e5e:cff:fe11:2233")),
        (16, b"ether1"),
        (17, socket.inet_aton("192.168.88.1")),
    ])
    with Capture("mndp-5678", "udp port 5678"):
        router = udp_socket(("127.0.0.2", 5678))
        router.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        winbox = udp_socket((LO, 5678))
        # A neighbour-discovery probe (4 zero bytes, as nmap's broadcast-mndp-discover and
        # Winbox send), then the router's announcements.
        prober = udp_socket()
        prober.sendto(b"\x00\x00\x00\x00", ("127.0.0.2", 5678))
        router.recvfrom(2048)
        for seq, up in ((0, 3600), (1, 3660), (2, 3720)):
            router.sendto(full(seq, up), (LO, 5678))
            winbox.recvfrom(2048)
            time.sleep(0.02)
        # Short announcements: MAC + Identity only, and exactly 16 bytes (seq 2, Identity of 8
        # bytes: the payload begins 00 00 00 02 like a SNATMAP response).
        router.sendto(mndp(3, [(1, mac), (5, b"gw")]), (LO, 5678))
        router.sendto(mndp(2, [(5, b"MikroTik")]), (LO, 5678))
        # A shorter announcement with a v7 version string.
        router.sendto(mndp(4, [(1, mac), (5, b"hAP-ax2"), (7, b"7.15.3 (stable)")]), (LO, 5678))
        # The same over IPv6 (::1).
        r6 = udp_socket(("::1", 5678), socket.AF_INET6)
        w6 = udp_socket(("::1", 0), socket.AF_INET6)
        r6.sendto(full(5, 3780), w6.getsockname()[:2])
        w6.recvfrom(2048)
        for s in (router, winbox, prober, r6, w6):
            s.close()


# ---------------------------------------------------------------------------------------------
# 16-byte UDP datagrams that begin 00 00 00 01 / 00 00 00 02 (a network-probe lookalike)


def make_probe16():
    rng = random.Random(16)
    with Capture("probe16-udp", "udp port 6000 or udp port 9999"):
        srv = udp_socket((LO, 6000))
        cl = udp_socket()
        # Probe tool on UDP 6000: the client sends type-2 "probes" (seq, timestamp), the
        # server echoes type-2 with its own stamp; nonces never repeat a type-1 message.
        for i in range(12):
            ts = rng.getrandbits(32)
            probe = struct.pack(">III", 2, 0x10000 + i, ts) + struct.pack(">I", rng.getrandbits(32))
            cl.sendto(probe, (LO, 6000))
            _, peer = srv.recvfrom(64)
            srv.sendto(struct.pack(">IIII", 2, 0x20000 + i, rng.getrandbits(32), rng.getrandbits(32)), peer)
            cl.recvfrom(64)
        # Occasional type-1 keepalives from the client (nonces unrelated to the type-2 ones).
        for i in range(4):
            cl.sendto(struct.pack(">IIII", 1, 0x7f000000 + i, rng.getrandbits(32), rng.getrandbits(32)), (LO, 6000))
            srv.recvfrom(64)
        # One-way 16-byte stream to UDP 9999 (starts 00 00 00 02, ends 00 00: a SNATMAP
        # response lookalike in every byte the heuristic can check).
        sink = udp_socket((LO, 9999))
        for i in range(6):
            b = struct.pack(">II", 2, rng.getrandbits(32)) + bytes(rng.getrandbits(8) for _ in range(6)) + b"\x00\x00"
            cl.sendto(b, (LO, 9999))
            sink.recvfrom(64)
        for s in (srv, cl, sink):
            s.close()


# ---------------------------------------------------------------------------------------------
# TCP 5223: non-TLS streams, and a TLS session that is not Apple's


def make_tcp5223_xmpp():
    c = [
        b"<?xml version='1.0'?><stream:stream to='example.org' xmlns='jabber:client' "
        b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
        b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>",
        b"<iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>",
        b"<message to='romeo@example.net' type='chat'><body>Art thou not Romeo?</body></message>",
        b"</stream:stream>",
    ]
    s = [
        b"<?xml version='1.0'?><stream:stream from='example.org' id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' "
        b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
        b"</mechanisms></stream:features>",
        b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        b"<iq type='result' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@example.org/balcony</jid></bind></iq>",
        None,
        b"</stream:stream>",
    ]
    with Capture("tcp5223-xmpp", "tcp port 5223"):
        tcp_exchange(5223, c, s)


def make_tcp5223_binary():
    """An HP-style length-prefixed binary protocol: 4-byte big-endian length, 2-byte opcode,
    2-byte sequence, body."""
    rng = random.Random(5223)
    frame = lambda op, seq, body: struct.pack(">IHH", len(body) + 8, op, seq) + body
    c, s = [], []
    for seq in range(6):
        c.append(frame(0x0101, seq, bytes(rng.getrandbits(8) for _ in range(rng.randint(8, 60)))))
        s.append(frame(0x8101, seq, bytes(rng.getrandbits(8) for _ in range(rng.randint(8, 200)))))
    with Capture("tcp5223-binary", "tcp port 5223"):
        tcp_exchange(5223, c, s)


def make_tcp5223_random():
    rng = random.Random(0x5223)
    blob = lambda n: bytes(rng.getrandbits(8) for _ in range(n))
    c = [blob(n) for n in (1, 5, 48, 300, 16)]
    s = [blob(n) for n in (3, 120, 7, 900, 2)]
    with Capture("tcp5223-random", "tcp port 5223"):
        tcp_exchange(5223, c, s)


def selfsigned():
    key, crt = os.path.join(WORK, "key.pem"), os.path.join(WORK, "crt.pem")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "30", "-subj", "/CN=example.org", "-keyout", key, "-out", crt],
                       check=True, capture_output=True)
    return key, crt


def tls_session(port, name, bpf, tls_opt):
    """openssl s_server on 127.0.0.1:port with a self-signed cert; curl asks
    https://example.org:port/ (SNI example.org) through --resolve."""
    key, crt = selfsigned()
    # A short fixed answer (s_server -HTTP sends a file from its working directory as is, so
    # the file holds the HTTP response head too).
    docs = os.path.join(WORK, "www")
    os.makedirs(docs, exist_ok=True)
    with open(os.path.join(docs, "index.txt"), "w") as f:
        f.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from example.org\n")
    with Capture(name, bpf):
        srv = subprocess.Popen(["openssl", "s_server", "-quiet", "-accept", f"{LO}:{port}", "-cert", crt,
                                "-key", key, "-HTTP", tls_opt], cwd=docs,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            wait_port(port)
            subprocess.run(["curl", "-sS", "-k", "--http1.1", "--resolve", f"example.org:{port}:{LO}",
                            f"https://example.org:{port}/index.txt"], check=True, capture_output=True, timeout=10)
            time.sleep(0.2)
        finally:
            stop(srv)


def make_tcp5223_tls():
    tls_session(5223, "tcp5223-tls", "tcp port 5223", "-tls1_3")


# ---------------------------------------------------------------------------------------------
# UDP in the FaceTime range (16393-16472) that is not FaceTime


def dns_answer(query, ttl=300):
    """A minimal authoritative answer: A 192.0.2.1 for type A, NXDOMAIN-free empty answer else."""
    tid, flags, qd = struct.unpack(">HHH", query[:6])
    end = 12
    while query[end] != 0:
        end += query[end] + 1
    qtype = struct.unpack(">H", query[end + 1:end + 3])[0]
    question = query[12:end + 5]
    rr = b""
    if qtype == 1:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, ttl, 4) + socket.inet_aton("192.0.2.1")
    elif qtype == 16:
        txt = b"v=spf1 -all"
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, ttl, len(txt) + 1) + bytes([len(txt)]) + txt
    hdr = struct.pack(">HHHHHH", tid, 0x8400 | (flags & 0x0100), 1, 1 if rr else 0, 0, 0)
    return hdr + question + rr


def dns_server(port, n):
    """Answers n queries on 127.0.0.1:port in a thread; returns the thread."""
    s = udp_socket((LO, port))

    def run():
        for _ in range(n):
            q, peer = s.recvfrom(2048)
            s.sendto(dns_answer(q), peer)
        s.close()

    t = threading.Thread(target=run)
    t.start()
    return t


def dig(port, name, qtype):
    subprocess.run(["dig", "+tries=1", "+time=2", "+noedns", "-p", str(port), f"@{LO}", name, qtype],
                   check=True, capture_output=True)


def make_facetime_range_other():
    rng = random.Random(16401)
    with Capture("udp-facetime-range-other", "udp portrange 16393-16472"):
        a = udp_socket((LO, 16401))
        b = udp_socket((LO, 16471))
        # Gnutella-like UDP descriptors: 16-byte GUID, type (0x00 ping, 0x01 pong, 0x80
        # query, 0x81 query hit), TTL, hops, payload length (LE), payload.
        for kind, payload in ((0x00, b""), (0x01, struct.pack("<H4sII", 6346, socket.inet_aton("192.0.2.7"), 12, 3400)),
                              (0x80, b"\x00\x00ubuntu iso\x00"), (0x81, bytes(rng.getrandbits(8) for _ in range(60)))):
            guid = bytes(rng.getrandbits(8) for _ in range(16))
            d = guid + bytes([kind, 2, 0]) + struct.pack("<I", len(payload)) + payload
            (a if kind in (0x00, 0x80) else b).sendto(d, (LO, 16471 if kind in (0x00, 0x80) else 16401))
            (b if kind in (0x00, 0x80) else a).recvfrom(2048)
        # Random payloads of assorted lengths, both ways (16 and 20 bytes included).
        for n in (1, 4, 12, 16, 20, 33, 100, 172, 500):
            a.sendto(bytes(rng.getrandbits(8) for _ in range(n)), (LO, 16471))
            b.recvfrom(2048)
            b.sendto(bytes(rng.getrandbits(8) for _ in range(n)), (LO, 16401))
            a.recvfrom(2048)
        a.close()
        b.close()
        # Real DNS (dig) to a resolver listening on 16401 and on 16471.
        for port in (16401, 16471):
            t = dns_server(port, 2)
            time.sleep(0.1)
            dig(port, "example.org", "A")
            dig(port, "example.org", "TXT")
            t.join()


def make_facetime_range_rtp():
    """RTP-looking datagrams (version 2, dynamic payload type, steady sequence/timestamp, one
    SSRC) between 16420 and 16430: a flow that never carried SIP or any FaceTime signalling."""
    rng = random.Random(16420)
    with Capture("udp-facetime-range-rtp", "udp portrange 16393-16472"):
        a = udp_socket((LO, 16420))
        b = udp_socket((LO, 16430))
        ssrc, seq, ts = 0x1234abcd, 4000, 160000
        for i in range(10):
            body = bytes(rng.getrandbits(8) for _ in range(80))
            a.sendto(struct.pack(">BBHII", 0x80, 100 | (0x80 if i == 0 else 0), seq + i, ts + 960 * i, ssrc) + body, (LO, 16430))
            b.recvfrom(2048)
        a.close()
        b.close()


# ---------------------------------------------------------------------------------------------
# ordinary traffic elsewhere


def make_dns():
    with Capture("dns-53", "udp port 53"):
        t = dns_server(53, 3)
        time.sleep(0.1)
        dig(53, "example.org", "A")
        dig(53, "www.example.net", "AAAA")
        dig(53, "example.org", "TXT")
        t.join()


def make_http():
    docs = os.path.join(WORK, "http")
    os.makedirs(docs, exist_ok=True)
    with open(os.path.join(docs, "hello.txt"), "w") as f:
        f.write("hello\n")
    with Capture("http-8000", "tcp port 8000"):
        srv = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", LO, "8000"], cwd=docs,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(8000)
            subprocess.run(["curl", "-sS", f"http://{LO}:8000/hello.txt"], check=True, capture_output=True)
            subprocess.run(["curl", "-sS", "-o", "/dev/null", f"http://{LO}:8000/missing"], check=True, capture_output=True)
            time.sleep(0.2)
        finally:
            stop(srv)


def make_tls443():
    tls_session(443, "tls-443", "tcp port 443", "-tls1_2")


def sipp_call(name, bpf, uas_port, uac_port):
    """sipp's built-in UAS and UAC scenarios: one call (INVITE/180/200/ACK/BYE/200)."""
    with Capture(name, bpf):
        uas = subprocess.Popen(["sipp", "-sn", "uas", "-i", LO, "-p", str(uas_port), "-m", "1", "-nostdin",
                                "-timeout", "15"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=WORK)
        try:
            time.sleep(0.5)
            subprocess.run(["sipp", "-sn", "uac", "-i", LO, "-p", str(uac_port), "-m", "1", "-d", "200", "-nostdin",
                            "-timeout", "10", f"{LO}:{uas_port}"], check=True, capture_output=True, cwd=WORK)
            uas.wait(timeout=10)
        finally:
            stop(uas)


def make_sip():
    sipp_call("sip-5060", "udp port 5060 or udp port 5061", 5060, 5061)


def make_facetime_range_sip():
    """A SIP call (sipp) between 16440 and 16441: SIP that is not FaceTime, in the range."""
    sipp_call("udp-facetime-range-sip", "udp portrange 16393-16472", 16440, 16441)


def stun_binding():
    rng = random.Random(3478)
    tid = bytes(rng.getrandbits(8) for _ in range(12))
    soft = b"appleshark-corpus"
    soft_attr = struct.pack(">HH", 0x8022, len(soft)) + soft + b"\x00" * ((4 - len(soft) % 4) % 4)
    req = struct.pack(">HHI", 0x0001, len(soft_attr), 0x2112A442) + tid + soft_attr
    return tid, req


def stun_exchange(name, bpf, port):
    with Capture(name, bpf):
        srv = udp_socket((LO, port))
        cl = udp_socket()
        tid, req = stun_binding()
        for _ in range(2):
            cl.sendto(req, (LO, port))
            q, (ip, cport) = srv.recvfrom(2048)
            xport = cport ^ 0x2112
            xip = struct.unpack(">I", socket.inet_aton(ip))[0] ^ 0x2112A442
            attr = struct.pack(">HHBBHI", 0x0020, 8, 0, 1, xport, xip)
            srv.sendto(struct.pack(">HHI", 0x0101, len(attr), 0x2112A442) + q[8:20] + attr, (ip, cport))
            cl.recvfrom(2048)
        srv.close()
        cl.close()


def make_stun():
    stun_exchange("stun-3478", "udp port 3478", 3478)


def make_facetime_range_stun():
    """STUN binding requests/responses to a server on 16450 (stock finds STUN by heuristic)."""
    stun_exchange("udp-facetime-range-stun", "udp portrange 16393-16472", 16450)


def make_tcp_plain():
    rng = random.Random(9000)
    c = [b"HELO corpus\r\n", bytes(rng.getrandbits(8) for _ in range(700)), b"QUIT\r\n"]
    s = [b"250 ok\r\n", b"250 got it\r\n", b"221 bye\r\n"]
    with Capture("tcp-plain-9000", "tcp port 9000"):
        tcp_exchange(9000, c, s)


ALL = {
    "mndp-5678": make_mndp,
    "probe16-udp": make_probe16,
    "tcp5223-xmpp": make_tcp5223_xmpp,
    "tcp5223-binary": make_tcp5223_binary,
    "tcp5223-random": make_tcp5223_random,
    "tcp5223-tls": make_tcp5223_tls,
    "udp-facetime-range-other": make_facetime_range_other,
    "udp-facetime-range-rtp": make_facetime_range_rtp,
    "udp-facetime-range-sip": make_facetime_range_sip,
    "udp-facetime-range-stun": make_facetime_range_stun,
    "dns-53": make_dns,
    "http-8000": make_http,
    "tls-443": make_tls443,
    "sip-5060": make_sip,
    "stun-3478": make_stun,
    "tcp-plain-9000": make_tcp_plain,
}

if __name__ == "__main__":
    names = sys.argv[1:] or list(ALL)
    try:
        for n in names:
            ALL[n]()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
