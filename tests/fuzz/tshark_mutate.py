#!/usr/bin/env python3
"""tshark-level fuzzing: mutate every fixture capture and run tshark with the plugin on
each mutant; fail on any crash (signal), abort, hang (timeout), or panic/dissector bug
reported by the plugin.

Inputs (the "bases"): the captures the golden tests generate (tests/fuzz/fixtures/, see
harvest-fixtures.sh), samples/*.pcap and the shared real MPTCP captures (../shared/captures
when present). Mutant i is a pure function of (--seed, i): the same command line
reproduces it. Mutators, one to three per mutant:

  editcap-E    editcap -E <p> --seed <s> [-o <skip>]   random byte errors
  editcap-s    editcap -s <snaplen>                    truncation
  truncate     random captured lengths per packet (pcap caplen < wire length)
  apns-len     APNs message lengths rewritten (0, 1, 2^31-1, 2^32-1 = "4 GiB", random) and
               item lengths (0, 0xFFFF, random)
  bplist-hdr   bplist trailer fields (int/ref sizes, object count, top object, offset
               table offset) and offset-table entries rewritten (huge, random, cyclic)
  mptcp-opt    MPTCP option length/subtype/body bytes rewritten
  payload      bytes flipped inside transport payloads only (headers intact)
  packets      packets dropped, duplicated or swapped

Each mutant runs in one of three tshark modes (i % 3): `-V`, `-2 -V`, and
`-2 -q -z apns,tree -z facetime_calls,tree -z mptcp_annot,conn`. A failure is kept in
--keep (mutant + command + output) and re-run without the plugin: if stock tshark fails
the same way it is reported as "stock" and does not fail the run.

--batch K runs K consecutive mutants (consecutive bases) concatenated in one capture per tshark run
(for the long run; a failing batch is halved until the failing mutants are found, each then
re-run alone and against stock tshark).

  tests/fuzz/tshark_mutate.py -n 2000 --batch 5       # CI (run-tests.sh)
  tests/fuzz/tshark_mutate.py -n 100000 --batch 50 --seed 7   # the long run (docs/robustness.md)
  tests/fuzz/tshark_mutate.py --only 1234             # reproduce mutant 1234 (same --seed)
"""

import argparse
import multiprocessing
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import pcaplib  # noqa: E402

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODES = [
    ["-n", "-V"],
    ["-n", "-2", "-V"],
    ["-n", "-2", "-q", "-z", "apns,tree", "-z", "facetime_calls,tree", "-z", "mptcp_annot,conn"],
]
# Output that means a bug even when tshark exits 0: a panic caught at an entry point
# (the <proto>.internal_error expert item), a DISSECTOR_ASSERT, GLib criticals.
BAD_OUTPUT = [b"appleshark internal error", b"Dissector bug", b"panicked at", b"CRITICAL **", b"ERROR **",
              b"AddressSanitizer", b"Segmentation fault"]


# ---------------------------------------------------------------------------- setup


def find_tshark_env(plugin):
    """A temporary HOME with the plugin in its personal plugin folder; run as nobody when
    root (tshark ignores personal plugins as root). Mirrors tests/support/tshark.rs."""
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    ver = next(w for w in out.split() if w[:1].isdigit() and w.count(".") >= 2)
    mm = ".".join(ver.split(".")[:2])
    home = tempfile.mkdtemp(prefix="appleshark-fuzz-home-")
    plugdir = os.path.join(home, ".local/lib/wireshark/plugins", mm, "epan")
    os.makedirs(plugdir)
    os.makedirs(os.path.join(home, "no-global-plugins"))
    os.makedirs(os.path.join(home, "files"))
    if plugin:
        shutil.copy(plugin, os.path.join(plugdir, "appleshark.so"))
    subprocess.run(["chmod", "-R", "a+rwX", home])
    # 8 GiB of address space at most: a memory blow-up aborts (and is reported) instead of
    # taking the machine down (the OOM killer ended a 24 GB tshark once).
    pre = ["prlimit", f"--as={8 << 30}"]
    if os.geteuid() == 0:
        pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + pre
    pre += ["env", f"HOME={home}", f"WIRESHARK_PLUGIN_DIR={home}/no-global-plugins"]
    check_loaded_copy(pre, os.path.join(plugdir, "appleshark.so") if plugin else None)
    return home, pre


def check_loaded_copy(pre, expected):
    """`tshark -G plugins` under `pre` lists exactly the test copy `expected` (or, for stock
    runs, no appleshark): never a copy installed system-wide (WIRESHARK_PLUGIN_DIR replaces
    the global folder; it is honoured because tshark does not run as root). editcap loads
    only wiretap plugins, so it cannot load appleshark (an epan plugin)."""
    out = subprocess.run(pre + ["tshark", "-G", "plugins"], capture_output=True, text=True, check=True).stdout
    ours = [l.rsplit("\t", 1)[-1].strip() for l in out.splitlines() if "appleshark" in l.lower()]
    want = [expected] if expected else []
    if ours != want:
        sys.exit(f"tshark_mutate: tshark must load {want or 'no appleshark'}, but -G plugins lists {ours}")
    print(f"tshark_mutate: tshark loads {expected or 'no appleshark (stock)'}", file=sys.stderr)


def build_plugin():
    subprocess.run(["cargo", "build", "--release", "--lib", "-q"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "libappleshark.so")


def bases(fixtures):
    out = []
    for p in pcaplib.base_captures(ROOT, fixtures):
        try:
            lt, pkts = pcaplib.read_packets(p)
        except Exception:
            continue
        if pkts and lt is not None:
            out.append((p, lt, pkts))
    return out


# ---------------------------------------------------------------------------- mutators


def _payload_slices(lt, pkt):
    d = pcaplib.decode(lt, pkt)
    if not d:
        return None, None
    return d, (d["payload_off"], d["payload_off"] + len(d["payload"]))


def m_truncate(r, lt, pkts):
    out = []
    for ts, p in pkts:
        if r.random() < 0.3 and len(p) > 1:
            p = p[: r.randrange(1, len(p))]
        out.append((ts, p))
    return out


def m_payload(r, lt, pkts):
    out = []
    rate = r.choice([0.001, 0.01, 0.05, 0.2])
    for ts, p in pkts:
        d, sl = _payload_slices(lt, p)
        if d and sl[1] > sl[0]:
            b = bytearray(p)
            for i in range(sl[0], sl[1]):
                if r.random() < rate:
                    b[i] = r.randrange(256)
            p = bytes(b)
        out.append((ts, p))
    return out


HUGE32 = [0, 1, 4, 5, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0x00100001, 0xFFFFFFFB]


def m_apns_len(r, lt, pkts):
    out = []
    for ts, p in pkts:
        d, sl = _payload_slices(lt, p)
        if d and d["proto"] == "tcp" and 5223 in (d["sport"], d["dport"]) and sl[1] - sl[0] >= 5:
            b = bytearray(p)
            off = sl[0]
            # Walk the messages in this segment; rewrite some lengths.
            while off + 5 <= sl[1]:
                n = struct.unpack(">I", b[off + 1:off + 5])[0]
                if r.random() < 0.4:
                    v = r.choice(HUGE32 + [r.randrange(1 << 32), n + r.randrange(-8, 9) & 0xFFFFFFFF])
                    b[off + 1:off + 5] = struct.pack(">I", v)
                elif r.random() < 0.5 and off + 8 <= sl[1]:
                    # An item length inside this message.
                    i = off + 5
                    while i + 3 <= min(sl[1], off + 5 + n):
                        il = struct.unpack(">H", b[i + 1:i + 3])[0]
                        if r.random() < 0.3:
                            b[i + 1:i + 3] = struct.pack(">H", r.choice([0, 1, 0xFFFF, 0x8000, r.randrange(65536)]))
                            break
                        i += 3 + il
                if n > sl[1] - off:
                    break
                off += 5 + n
            p = bytes(b)
        out.append((ts, p))
    return out


def _bplist_trailers(b, start):
    """Plausible trailer offsets after a 'bplist0' at `start`: 6 zero bytes, two sizes 1-8,
    and an object count whose high bytes are zero."""
    res = []
    i = start + 8
    while True:
        i = b.find(b"\x00" * 6, i)
        if i < 0 or i + 32 > len(b):
            return res
        if 1 <= b[i + 6] <= 8 and 1 <= b[i + 7] <= 8 and b[i + 8:i + 12] == b"\x00\x00\x00\x00":
            res.append(i)
        i += 1


def m_bplist_hdr(r, lt, pkts):
    out, done = [], False
    for ts, p in pkts:
        s = p.find(b"bplist0")
        if s >= 0:
            b = bytearray(p)
            trailers = _bplist_trailers(b, s)
            if trailers:
                t = trailers[-1]
                num = struct.unpack(">Q", b[t + 8:t + 16])[0]
                ots = b[t + 6]
                table = struct.unpack(">Q", b[t + 24:t + 32])[0]
                for _ in range(r.randrange(1, 4)):
                    k = r.randrange(8)
                    if k == 0:
                        b[t + 6] = r.choice([0, 1, 2, 3, 4, 8, 9, 255])
                    elif k == 1:
                        b[t + 7] = r.choice([0, 1, 2, 3, 4, 8, 9, 255])
                    elif k == 2:
                        b[t + 8:t + 16] = struct.pack(">Q", r.choice([0, 1, num + 1, 1 << 32, (1 << 64) - 1, r.randrange(1 << 64)]))
                    elif k == 3:
                        b[t + 16:t + 24] = struct.pack(">Q", r.choice([0, num, num - 1 if num else 0, (1 << 64) - 1, r.randrange(1 << 64)]))
                    elif k == 4:
                        b[t + 24:t + 32] = struct.pack(">Q", r.choice([0, 8, table + 1, (1 << 63), (1 << 64) - 1, r.randrange(1 << 64)]))
                    elif k in (5, 6) and 1 <= ots <= 8 and s + table + ots * num <= t:
                        # Offset-table entries: all pointing at one object (cycles through
                        # its own references), at the header, or anywhere.
                        base = s + table
                        target = r.choice([8, r.randrange(1 << (8 * ots))])
                        for j in range(num):
                            if k == 5 or r.random() < 0.2:
                                b[base + j * ots:base + (j + 1) * ots] = target.to_bytes(ots, "big")
                    else:
                        # A container marker with a huge count nibble or wrong type.
                        j = r.randrange(s + 8, t) if t > s + 8 else s + 8
                        b[j] = r.choice([0xAF, 0xDF, 0xCF, 0x4F, 0x5F, 0x6F, 0x1F, 0x8F, r.randrange(256)])
                p = bytes(b)
                done = True
        out.append((ts, p))
    return out if done else m_payload(r, lt, pkts)


def m_mptcp_opt(r, lt, pkts):
    out = []
    for ts, p in pkts:
        d = pcaplib.decode(lt, p)
        if d and d["proto"] == "tcp" and r.random() < 0.5:
            b = bytearray(p)
            o, end = d["options_off"], d["options_off"] + len(d["options"])
            while o < end:
                kind = b[o]
                if kind in (0, 1):
                    o += 1
                    continue
                if o + 1 >= end:
                    break
                ln = b[o + 1]
                if kind == 30 and r.random() < 0.5:
                    what = r.randrange(4)
                    if what == 0:
                        b[o + 1] = r.choice([0, 1, 2, 3, 4, 8, 12, 20, 255, r.randrange(256)])
                    elif what == 1 and o + 2 < end:
                        b[o + 2] = r.randrange(256)
                    elif ln > 3:
                        for j in range(o + 2, min(end, o + ln)):
                            if r.random() < 0.3:
                                b[j] = r.randrange(256)
                if ln < 2:
                    break
                o += ln
            p = bytes(b)
        out.append((ts, p))
    return out


def m_packets(r, lt, pkts):
    out = list(pkts)
    for _ in range(r.randrange(1, 4)):
        if not out:
            break
        i = r.randrange(len(out))
        k = r.randrange(3)
        if k == 0 and len(out) > 1:
            del out[i]
        elif k == 1:
            out.insert(i, out[i])
        else:
            j = r.randrange(len(out))
            out[i], out[j] = out[j], out[i]
    return out


PY_MUTATORS = {"truncate": m_truncate, "payload": m_payload, "apns-len": m_apns_len,
               "bplist-hdr": m_bplist_hdr, "mptcp-opt": m_mptcp_opt, "packets": m_packets}
ALL = ["editcap-E", "editcap-s"] + list(PY_MUTATORS)
WEIGHTS = {"editcap-E": 3, "editcap-s": 1, "truncate": 1, "payload": 3, "apns-len": 2, "bplist-hdr": 2,
           "mptcp-opt": 2, "packets": 1}


def make_mutant(seed, i, base_list, path):
    """Writes mutant i to `path`; returns (base path, mutator names)."""
    r = random.Random(seed * 1_000_003 + i)
    bpath, lt, pkts = base_list[i % len(base_list)]
    names = r.choices(ALL, weights=[WEIGHTS[n] for n in ALL], k=r.randrange(1, 4))
    cur = pkts
    for n in names:
        if n in PY_MUTATORS:
            cur = PY_MUTATORS[n](r, lt, cur)
    pcaplib.write_pcap(path, lt, cur)
    for n in names:
        if n.startswith("editcap"):
            tmp = path + ".e"
            if n == "editcap-E":
                args = ["-E", r.choice(["0.001", "0.005", "0.02", "0.1"]), "--seed", str(r.randrange(1 << 31)),
                        "-o", str(r.choice([0, 14, 34, 54, 66]))]
            else:
                args = ["-s", str(r.choice([14, 34, 40, 54, 60, 64, 80, 100, 200, 600]))]
            subprocess.run(["editcap", "-F", "pcap", *args, path, tmp], check=True, capture_output=True)
            os.replace(tmp, path)
    return bpath, names


def concat(paths, out):
    """One capture holding several mutants, one after the other. Mutants of bases with other
    link types (Linux cooked captures among Ethernet ones) keep theirs: then the capture is
    pcapng with one interface per link type."""
    allp, t = [], 0
    for p in paths:
        lt, pk = pcaplib.read_packets(p)
        if not pk:
            continue
        t0 = pk[0][0]
        for ts, b in pk:
            allp.append((lt, t + max(0, ts - t0), b))
        t = allp[-1][1] + 10**9
    lts = {lt for lt, _, _ in allp}
    if len(lts) <= 1:
        pcaplib.write_pcap(out, lts.pop() if lts else pcaplib.LINK_ETHERNET, [(ts, b) for _, ts, b in allp])
    else:
        pcaplib.write_pcapng(out, allp)


# ---------------------------------------------------------------------------- running


CTX = {}


def init_worker(ctx):
    CTX.update(ctx)


OUR_PATTERNS = [b"appleshark internal error", b"panicked at"]


def signature(out, err):
    """The normalised lines that matched BAD_OUTPUT (pids and times stripped)."""
    sig = set()
    # -V output of a batch runs to tens of MB: find the patterns with bytes.find and cut out
    # only their lines (splitting all of it in Python took 1.6 s per run on a 37 MB output).
    for buf in (out, err):
        for p in BAD_OUTPUT:
            at = buf.find(p)
            while at >= 0:
                start = buf.rfind(b"\n", 0, at) + 1
                end = buf.find(b"\n", at)
                end = len(buf) if end < 0 else end
                for line in buf[start:end].splitlines():
                    if any(q in line for q in BAD_OUTPUT):
                        line = re.sub(rb"^\s*\*\* \(tshark:\d+\) [\d:.]+ ", b"", line.strip())
                        sig.add(line.decode(errors="replace"))
                at = buf.find(p, end)
    return sig


def run_tshark(prefix, path, mode, timeout, stock=False):
    """(failure or None, stdout, stderr, seconds, signature)."""
    os.chmod(path, 0o644)
    args = MODES[mode]
    if stock:
        # Stock tshark has no -z of ours.
        args = [a for k, a in enumerate(args) if a != "-z" and (k == 0 or args[k - 1] != "-z")]
    cmd = prefix + ["tshark", "-r", path] + args
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang", b"", b"", time.time() - t0, {"hang"}
    dt = time.time() - t0
    if p.returncode < 0 or p.returncode >= 128:
        return f"signal/abort (exit {p.returncode})", p.stdout, p.stderr, dt, {f"exit {p.returncode}"}
    sig = signature(p.stdout, p.stderr)
    if sig:
        return "bad output: " + "; ".join(sorted(sig))[:300], p.stdout, p.stderr, dt, sig
    if p.returncode != 0:
        return f"exit {p.returncode}", p.stdout, p.stderr, dt, {f"exit {p.returncode}"}
    return None, p.stdout, p.stderr, dt, set()


def is_stock(sig_ours, out, err, sig_stock):
    """Stock tshark (no plugin) shows the same failure, and nothing points at the plugin."""
    if any(p in out or p in err for p in OUR_PATTERNS):
        return False
    ours = {re.sub(r"in packet \d+", "", x) for x in sig_ours}
    stock = {re.sub(r"in packet \d+", "", x) for x in sig_stock}
    return bool(stock) and ours <= stock


def bisect_failures(c, ks, paths, mode, work, first):
    """The mutants (indexes into paths) of a failing batch that fail on their own, found by
    halving: a half that passes as a whole is not searched further. [(k, run result)]."""
    if len(ks) == 1:
        f1, o1, e1, _, s1 = run_tshark(c["prefix"], paths[ks[0]], mode, c["timeout"])
        return [(ks[0], (f1, o1, e1, s1))] if f1 else []
    found = []
    mid = len(ks) // 2
    for half in (ks[:mid], ks[mid:]):
        if len(half) == 1:
            found += bisect_failures(c, half, paths, mode, work, first)
            continue
        hp = os.path.join(work, f"b{first}-{half[0]}-{half[-1]}.pcap")
        concat([paths[k] for k in half], hp)
        f, _, _, _, _ = run_tshark(c["prefix"], hp, mode, c["timeout"])
        os.remove(hp)
        if f:
            found += bisect_failures(c, half, paths, mode, work, first)
    return found


def stock_judge(c, path, mode, sig, out, err):
    """(whether stock tshark without the plugin fails the same way on `path`, its failure).
    Our -z taps make tshark build protocol trees, which stock tshark only does with -V: in
    that mode stock tshark is also run with `-2 -V` (same two passes, with trees) and `-V`."""
    f0 = None
    for m in [mode] + ([1, 0] if mode == 2 else []):
        f0, _, _, _, s0 = run_tshark(c["prefix_stock"], path, m, c["timeout"], stock=True)
        if is_stock(sig, out, err, s0):
            return True, f0
    return False, f0


def keep_failure(c, name, capture, capname, header, mode, failure, stock_failure, tail):
    """Keeps a failing capture with its report in --keep/<name>/; returns that folder."""
    keep = os.path.join(c["keep"], name)
    os.makedirs(keep, exist_ok=True)
    shutil.copy(capture, os.path.join(keep, capname))
    with open(os.path.join(keep, "report.txt"), "w") as fh:
        fh.write(header + "\n")
        fh.write(f"mode {' '.join(MODES[mode])}\nfailure: {failure}\nstock tshark without plugin: {stock_failure}\n")
        fh.write(tail)
    return keep


def judge_mutants(c, culprits, paths, descs, mode):
    """Each failing mutant re-run against stock tshark; kept with a report."""
    results = []
    for k, (f1, o1, e1, s1) in culprits:
        i, bname, names = descs[k]
        sp = paths[k]
        stock, f0 = stock_judge(c, sp, mode, s1, o1, e1)
        keep = keep_failure(c, f"mutant-{i}", sp, "mutant.pcap",
                            f"mutant {i} seed {c['seed']} base {bname} mutators {names}", mode, f1, f0,
                            "--- stderr\n" + e1.decode(errors="replace")[-4000:] + "\n--- stdout tail\n"
                            + o1.decode(errors="replace")[-4000:])
        results.append((i, bname, names, f1, "stock" if stock else "plugin", keep))
    return results


def job(first):
    c = CTX
    ids = list(range(first, min(first + c["batch"], c["end"])))
    work = os.path.join(c["home"], "files")
    paths, descs = [], []
    for i in ids:
        path = os.path.join(work, f"m{i}.pcap")
        b, names = make_mutant(c["seed"], i, c["bases"], path)
        paths.append(path)
        descs.append((i, os.path.basename(b), names))
    mode = first // c["batch"] % 3
    if len(paths) == 1:
        run_path = paths[0]
    else:
        run_path = os.path.join(work, f"b{first}.pcap")
        concat(paths, run_path)
    fail, out, err, dt, sig = run_tshark(c["prefix"], run_path, mode, c["timeout"])
    results = []
    if fail:
        batched = len(paths) > 1
        if batched:
            culprits = bisect_failures(c, list(range(len(paths))), paths, mode, work, first)
        else:
            culprits = [(0, (fail, out, err, sig))]
        results = judge_mutants(c, culprits, paths, descs, mode)
        if not results:
            # No half fails on its own (mutants in a batch share addresses, so an earlier
            # mutant's state can hide a later one's failure): judge the whole batch against
            # stock tshark, and only when stock does not explain it look for the culprit
            # mutant by mutant.
            stock, f0 = stock_judge(c, run_path, mode, sig, out, err)
            if not stock:
                linear = []
                for k, sp in enumerate(paths):
                    f1, o1, e1, _, s1 = run_tshark(c["prefix"], sp, mode, c["timeout"])
                    if f1:
                        linear.append((k, (f1, o1, e1, s1)))
                results = judge_mutants(c, linear, paths, descs, mode)
            if not results:
                keep = keep_failure(c, f"batch-{first}", run_path, "batch.pcap",
                                    f"batch {first}..{first + len(ids) - 1} seed {c['seed']} mutants {descs}",
                                    mode, fail, f0, "")
                results.append((first, "batch", [], fail + " (whole batch only; no single mutant fails)",
                                "stock" if stock else "plugin", keep))
    for p in set(paths + [run_path]):
        try:
            os.remove(p)
        except OSError:
            pass
    return len(ids), dt, results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=2000, help="number of mutants (default 2000)")
    ap.add_argument("--start", type=int, default=0, help="first mutant index")
    ap.add_argument("--only", type=int, help="run just this mutant")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--batch", type=int, default=1, help="mutants per tshark run")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per tshark run (a hang)")
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "tests", "fuzz", "fixtures"))
    ap.add_argument("--plugin", help="libappleshark.so (default: cargo build --release --lib)")
    ap.add_argument("--keep", default=os.path.join(ROOT, "target", "tshark-fuzz-failures"))
    a = ap.parse_args()
    plugin = a.plugin or build_plugin()
    base_list = bases(a.fixtures)
    if not base_list:
        sys.exit("no base captures (tests/fuzz/harvest-fixtures.sh tests/fuzz/fixtures)")
    home, prefix = find_tshark_env(plugin)
    home0, prefix0 = find_tshark_env(None)
    os.makedirs(a.keep, exist_ok=True)
    start, end = (a.only, a.only + 1) if a.only is not None else (a.start, a.start + a.n)
    batch = 1 if a.only is not None else a.batch
    ctx = dict(seed=a.seed, bases=base_list, home=home, prefix=prefix, prefix_stock=prefix0, keep=a.keep,
               timeout=a.timeout, batch=batch, end=end)
    print(f"tshark-mutate: {end - start} mutants from {len(base_list)} captures, seed {a.seed}, "
          f"batch {batch}, {a.j} jobs, timeout {a.timeout}s", flush=True)
    t0, done, runs, slowest, fails = time.time(), 0, 0, 0.0, []
    try:
        with multiprocessing.Pool(a.j, initializer=init_worker, initargs=(ctx,)) as pool:
            for n, dt, res in pool.imap_unordered(job, range(start, end, batch)):
                done += n
                runs += 1
                slowest = max(slowest, dt)
                for r in res:
                    fails.append(r)
                    if r[4] == "plugin":
                        print(f"FAIL: mutant {r[0]} ({r[1]}, {'+'.join(r[2])}): {r[3]} -> {r[5]}", flush=True)
                    elif sum(1 for f in fails if f[4] == "stock") <= 3:
                        print(f"stock tshark bug (also without the plugin; only the first 3 are shown): mutant {r[0]} "
                              f"({r[1]}, {'+'.join(r[2])}): {r[3][:200]} -> {r[5]}", flush=True)
                if runs % max(1, 1000 // batch) == 0:
                    el = time.time() - t0
                    print(f"  {done}/{end - start} mutants, {el:.0f}s, {done / el:.1f}/s, slowest run {slowest:.1f}s",
                          flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(home0, ignore_errors=True)
    el = time.time() - t0
    ours = [f for f in fails if f[4] == "plugin"]
    stock = [f for f in fails if f[4] == "stock"]
    print(f"tshark-mutate: {done} mutants in {runs} tshark runs, {el:.0f}s ({done / max(el, 1e-9):.1f}/s), "
          f"slowest run {slowest:.1f}s; {len(ours)} failures with the plugin, {len(stock)} in stock tshark too")
    if stock:
        kinds = {}
        for f in stock:
            k = re.sub(r"(in packet|packet) \d+", "", f[3])[:160]
            kinds[k] = kinds.get(k, 0) + 1
        for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  stock tshark failure x{n}: {k}")
    print(f"{done - len(ours)} passed, {len(ours)} failed")
    sys.exit(1 if ours else 0)


if __name__ == "__main__":
    main()
