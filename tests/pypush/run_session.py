#!/usr/bin/env python3
"""Records one pypush <-> courier_server.py session on loopback.

    run_session.py OUTDIR [--port 5223] [--plain [--relay-port 5224]] [--python PY]

Starts dumpcap on lo (filter: tcp port PORT), the courier test server, then client.py with
SSLKEYLOGFILE set; stops the capture when both have finished. Writes:

    OUTDIR/session.pcapng   the capture (TLS 1.3, encrypted)
    OUTDIR/keys.log         the client's TLS key log (NSS format, for tls.keylog_file)
    OUTDIR/server.jsonl     the server's log, OUTDIR/client.jsonl the client's
    OUTDIR/truth.jsonl      both logs merged, one line per message in wire order (the
                            server's order, which the lock-step exchange makes the wire
                            order), each checked byte for byte against the other side
    OUTDIR/truth.tsv        the same, flattened for the Rust golden test (columns in the
                            header line)

--plain records the same session in clear on TCP PORT, as a TLS-terminating proxy in front
of a courier sees it: pypush still speaks TLS (ALPN apns-security-v3, SNI
courier.push.apple.com), to courier_relay.py on 127.0.0.1:RELAY_PORT, which forwards the
decrypted bytes unchanged over a plain TCP connection to courier_server.py --plain on
127.0.0.1:PORT. The capture (tcp port PORT only) holds that cleartext hop and no TLS; no
keys.log is written. OUTDIR/relay.jsonl is the relay's log (every chunk it forwarded);
the relayed bytes, per direction, must equal both peers' logged messages.

Exits non-zero when the logs disagree, the TLS parameters are not the expected ones, or a
step fails. Needs root (or capture rights) for dumpcap on lo. Talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg: str):
    print(f"run_session: {msg}", file=sys.stderr)
    sys.exit(1)


def start_capture(outfile: str, port: int) -> subprocess.Popen:
    dumpcap = shutil.which("dumpcap") or "/usr/bin/dumpcap"
    p = subprocess.Popen(
        [dumpcap, "-i", "lo", "-f", f"tcp port {port}", "-w", outfile, "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    # dumpcap says "Capturing on 'Loopback: lo'" once the filter is installed.
    deadline = time.time() + 10
    line = ""
    while time.time() < deadline:
        line = p.stderr.readline()
        if "Capturing on" in line:
            return p
        if not line and p.poll() is not None:
            break
    p.kill()
    fail(f"dumpcap did not start: {line.strip()} {p.stderr.read() if p.stderr else ''}")


def stop_capture(p: subprocess.Popen):
    time.sleep(0.3)  # let the last FIN/ACKs through
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if p.returncode not in (0, -signal.SIGTERM):
        fail(f"dumpcap exited with {p.returncode}: {p.stderr.read()}")


def read_jsonl(path: str) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def merge(server: list[dict], client: list[dict], relay: list[dict] | None = None) -> tuple[list[dict], dict]:
    """relay: the relay's log in --plain mode; the client's TLS peer is then the relay, and
    the server (which saw no TLS) must have received the relay's upstream connection."""
    s_msgs = [e for e in server if "command" in e]
    c_msgs = [e for e in client if "command" in e]
    tls_peer = relay if relay is not None else server
    s_tls = next((e for e in tls_peer if e.get("event") == "tls"), None)
    c_tls = next((e for e in client if e.get("event") == "tls"), None)
    if not s_tls or not c_tls:
        fail("a side logged no TLS session")
    for key in ("alpn", "version", "cipher"):
        if s_tls[key] != c_tls[key]:
            fail(f"TLS {key} differs: server {s_tls[key]} client {c_tls[key]}")
    if s_tls["alpn"] != "apns-security-v3":
        fail(f"ALPN is {s_tls['alpn']}")
    if s_tls["sni"] != "courier.push.apple.com":
        fail(f"SNI is {s_tls['sni']}")
    if not any(e.get("event") == "closed" for e in client):
        fail("the client did not finish")
    if len(s_msgs) != len(c_msgs):
        fail(f"server logged {len(s_msgs)} messages, client {len(c_msgs)}")
    # Each direction in the same order on both sides, byte for byte.
    for d in ("c2s", "s2c"):
        s = [e for e in s_msgs if e["dir"] == d]
        c = [e for e in c_msgs if e["dir"] == d]
        if [e["raw"] for e in s] != [e["raw"] for e in c]:
            fail(f"{d}: the two sides logged different bytes")
    session = {
        "alpn": s_tls["alpn"], "tls_version": s_tls["version"], "cipher": s_tls["cipher"],
        "sni": s_tls["sni"], "client_port": s_tls["peer"][1], "server_port": c_tls["port"],
        "mode": "tls",
    }
    if relay is not None:
        session["relay_port"] = c_tls["port"]
        session.update(check_relay(server, s_msgs, relay))
    c_iter = {d: iter([e for e in c_msgs if e["dir"] == d]) for d in ("c2s", "s2c")}
    truth = []
    for n, s in enumerate(s_msgs, 1):
        c = next(c_iter[s["dir"]])
        entry = {k: v for k, v in s.items() if k not in ("side", "seq")}
        entry["seq"] = n
        entry["client"] = {"class": c["class"], "fields": c["fields"]}
        truth.append(entry)
    link_acks(truth)
    return truth, session


def check_relay(server: list[dict], s_msgs: list[dict], relay: list[dict]) -> dict:
    """--plain: the relay forwarded, per direction, exactly the messages both peers logged
    (the peers' logs already agree), and the server's plain connection is the relay's."""
    s_conn = next((e for e in server if e.get("event") == "plain"), None)
    up = next((e for e in relay if e.get("event") == "upstream"), None)
    if not s_conn or not up:
        fail("no plain connection between relay and server was logged")
    if s_conn["peer"] != up["local"]:
        fail(f"the server's peer {s_conn['peer']} is not the relay's upstream end {up['local']}")
    if not any(e.get("event") == "closed" for e in relay):
        fail("the relay did not finish")
    if any(e.get("event") == "error" for e in relay):
        fail(f"the relay logged an error: {[e for e in relay if e.get('event') == 'error']}")
    for d in ("c2s", "s2c"):
        relayed = "".join(e["hex"] for e in relay if e.get("event") == "data" and e["dir"] == d)
        logged = "".join(e["raw"] for e in s_msgs if e["dir"] == d)
        if relayed != logged:
            fail(f"{d}: the relay forwarded {len(relayed) // 2} bytes that differ from the "
                 f"{len(logged) // 2} bytes of the logged messages")
    # The captured connection is the relay's upstream one.
    return {"mode": "plain", "client_port": up["local"][1], "server_port": up["peer"][1]}


def item(entry: dict, item_id: int) -> dict | None:
    return next((i for i in entry["items"] if i["id"] == item_id), None)


def link_acks(truth: list[dict]):
    """0x0B acks the 0x0A with the same message id (item 4) sent the other way before it;
    0x08, 0x0D, 0x12 answer the latest unanswered 0x07, 0x0C, 0x11 sent the other way."""
    for ack in truth:
        if ack["command"] != 0x0B:
            continue
        aid = item(ack, 4)
        for msg in reversed(truth[: ack["seq"] - 1]):
            if msg["command"] == 0x0A and msg["dir"] != ack["dir"] and item(msg, 4) and item(msg, 4)["hex"] == aid["hex"]:
                ack["acks_seq"] = msg["seq"]
                msg["acked_by_seq"] = ack["seq"]
                break
        else:
            fail(f"ack {ack['seq']} matches no message")
    # Requests answered by a response the other way: the latest unanswered one before it.
    pairs = {0x08: 0x07, 0x0D: 0x0C, 0x12: 0x11}
    for resp in truth:
        req_cmd = pairs.get(resp["command"])
        if req_cmd is None:
            continue
        for req in reversed(truth[: resp["seq"] - 1]):
            if req["command"] == req_cmd and req["dir"] != resp["dir"] and "answered_by_seq" not in req:
                req["answered_by_seq"] = resp["seq"]
                resp["answers_seq"] = req["seq"]
                break
        else:
            fail(f"response {resp['seq']} answers no request")


TSV_COLUMNS = [
    "seq", "dir", "command", "name", "length", "item_ids", "token", "topics", "topic_hashes",
    "message_id", "status", "payload_format", "payload_keys", "link_seq", "nonce", "payload",
    "im_id", "im_sender", "im_target", "im_uuid", "raw",
]


def tsv_row(e: dict) -> list[str]:
    ids = ",".join(str(i["id"]) for i in e["items"])
    tokens = [i["hex"] for i in e["items"] if i["len"] == 32 and i["id"] in (1, 2, 3)]
    hashes = [i for i in e["items"] if "topic" in i or (i["len"] == 20 and e["command"] in (0x09, 0x0A, 0x11, 0x12))]
    topics = ",".join(i.get("topic", "") for i in hashes)
    mid = item(e, 4)["hex"] if e["command"] in (0x0A, 0x0B) and item(e, 4) else ""
    status_item = {0x08: 1, 0x0B: 8, 0x12: 1}.get(e["command"])
    status = str(item(e, status_item)["int"]) if status_item and item(e, status_item) else ""
    pl = item(e, 3)["payload"] if e["command"] == 0x0A else None
    pkeys = ",".join(pl["value"].keys()) if pl and isinstance(pl.get("value"), dict) else ""
    link = ""
    for k in ("acks_seq", "acked_by_seq", "answers_seq", "answered_by_seq"):
        if k in e:
            link = str(e[k])
    nonce = item(e, 13)["hex"] if e["command"] == 0x07 and item(e, 13) else ""
    payload = item(e, 3)["hex"] if pl else ""
    im = pl["value"] if pl and pl["format"] == "bplist" else {}
    uuid = im.get("U", {}).get("hex", "") if isinstance(im.get("U"), dict) else ""
    return [str(e["seq"]), e["dir"], str(e["command"]), e["name"], str(e["length"]), ids,
            tokens[0] if tokens else "", topics, ",".join(i["hex"] for i in hashes), mid, status,
            pl["format"] if pl else "", pkeys, link, nonce, payload, str(im.get("i", "")),
            im.get("sP", ""), im.get("tP", ""), uuid, e["raw"]]


def start(argv: list[str], what: str) -> subprocess.Popen:
    """Starts a loopback peer (server or relay) and waits for its READY line."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=HERE)
    ready = p.stdout.readline()
    if not ready.startswith("READY"):
        p.kill()
        p.wait()
        fail(f"{what} did not start: {ready!r}")
    return p


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--port", type=int, default=5223, help="courier port, the one captured (default 5223)")
    ap.add_argument("--plain", action="store_true",
                    help="capture the session in clear: pypush -> TLS relay -> plain TCP to the server on PORT")
    ap.add_argument("--relay-port", type=int, default=5224, help="--plain: the relay's TLS port (default 5224, not captured)")
    ap.add_argument("--python", default=sys.executable, help="interpreter with pypush installed")
    args = ap.parse_args()
    if args.plain and args.relay_port == args.port:
        fail("--relay-port must differ from --port")
    out = os.path.abspath(args.outdir)
    os.makedirs(out, exist_ok=True)
    names = ["session.pcapng", "keys.log", "server.jsonl", "client.jsonl", "relay.jsonl", "truth.jsonl", "truth.tsv"]
    paths = {n: os.path.join(out, n) for n in names}
    for p in paths.values():
        if os.path.exists(p):
            os.remove(p)
    if args.plain:
        del paths["keys.log"]
    else:
        del paths["relay.jsonl"]

    t0 = time.time()
    cap = start_capture(paths["session.pcapng"], args.port)
    peers = []
    try:
        server_argv = [args.python, os.path.join(HERE, "courier_server.py"), "--port", str(args.port),
                       "--log", paths["server.jsonl"]]
        peers.append(start(server_argv + (["--plain"] if args.plain else []), "server"))
        client_port, env = args.port, dict(os.environ, SSLKEYLOGFILE=paths.get("keys.log", ""))
        if args.plain:
            peers.append(start([args.python, os.path.join(HERE, "courier_relay.py"), "--port", str(args.relay_port),
                                "--upstream-port", str(args.port), "--log", paths["relay.jsonl"]], "relay"))
            client_port = args.relay_port
            env.pop("SSLKEYLOGFILE")
        client = subprocess.run(
            [args.python, os.path.join(HERE, "client.py"), "--port", str(client_port), "--log", paths["client.jsonl"]],
            env=env, cwd=HERE, timeout=30,
        )
        if client.returncode != 0:
            fail(f"client exited with {client.returncode}")
        for p in peers:
            if p.wait(15) != 0:
                fail(f"{p.args[1]} exited with {p.returncode}")
    finally:
        for p in peers:
            if p.poll() is None:
                p.kill()
                p.wait()
        stop_capture(cap)

    relay = read_jsonl(paths["relay.jsonl"]) if args.plain else None
    truth, session = merge(read_jsonl(paths["server.jsonl"]), read_jsonl(paths["client.jsonl"]), relay)
    with open(paths["truth.jsonl"], "w") as f:
        f.write(json.dumps({"session": session}, sort_keys=True) + "\n")
        for e in truth:
            f.write(json.dumps(e, sort_keys=True) + "\n")
    with open(paths["truth.tsv"], "w") as f:
        f.write("\t".join(TSV_COLUMNS) + "\n")
        for e in truth:
            f.write("\t".join(tsv_row(e)) + "\n")
    for p in paths.values():
        os.chmod(p, 0o644)
    print(f"run_session: {len(truth)} messages, {session['mode']}, {session['tls_version']} {session['cipher']}, "
          f"client port {session['client_port']}, {time.time() - t0:.1f} s -> {out}")


if __name__ == "__main__":
    main()
