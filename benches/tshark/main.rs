//! The tshark benchmark: generates large captures with tests/support's pcap writer, runs
//! tshark with and without the plugin (alternating), and writes the markdown report.
//!
//! Run it through `benches/run.sh` (which builds the release plugin and runs criterion
//! first). Directly: `cargo bench --bench tshark -- --run [--quick] [--runs N] [--scale F]
//! [--verbose-scale F] [--plugin PATH] [--out FILE]`. Without `--run` it does nothing, so a
//! plain `cargo bench` does not start a long measurement.

#[path = "../../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

mod apple;
mod gen;
mod ordinary;
mod wire;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use gen::{write_capture, Gen, Stop, Written};

struct Opts {
    scale: f64,
    vscale: f64,
    runs: usize,
    plugin: PathBuf,
    out: PathBuf,
    work: PathBuf,
    criterion: PathBuf,
    /// `--soak N`: only the soak (an N-packet mixed capture, one and two passes).
    soak: Option<u64>,
    /// `--mptcp-memory N`: only the MPTCP memory slope (captures of N and 2N sessions).
    mptcp_memory: Option<u64>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse_args() -> Option<Opts> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--run") {
        eprintln!("tshark benchmark: nothing to do without --run (use benches/run.sh)");
        return None;
    }
    let mut o = Opts {
        scale: 1.0,
        vscale: 0.1,
        runs: 5,
        plugin: root().join("target/release/libappleshark.so"),
        out: root().join("benches/results.md"),
        work: root().join("target/bench"),
        criterion: root().join("target/criterion"),
        soak: None,
        mptcp_memory: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().expect("option needs a value").clone();
        match a.as_str() {
            "--quick" => {
                o.scale = 0.01;
                o.vscale = 0.01;
                o.runs = 3;
            }
            "--scale" => o.scale = val().parse().unwrap(),
            "--verbose-scale" => o.vscale = val().parse().unwrap(),
            "--runs" => o.runs = val().parse().unwrap(),
            "--plugin" => o.plugin = val().into(),
            "--out" => o.out = val().into(),
            "--work" => o.work = val().into(),
            "--soak" => o.soak = Some(val().parse().unwrap()),
            "--mptcp-memory" => o.mptcp_memory = Some(val().parse().unwrap()),
            _ => {}
        }
    }
    Some(o)
}

fn sh(cmd: &str) -> String {
    Command::new("sh").args(["-c", cmd]).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}

fn is_root() -> bool {
    sh("id -u") == "0"
}

// ------------------------------------------------------------------ captures

struct Cap {
    name: String,
    path: PathBuf,
    w: Written,
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

fn make(o: &Opts, name: &str, mix: &[(f64, &'static str, Gen)], stop: Stop, concurrent: usize) -> Cap {
    let path = o.work.join(format!("{name}.pcap"));
    let t = Instant::now();
    let w = write_capture(&path, 0x5eed ^ name.len() as u64, mix, stop, concurrent);
    let _ = Command::new("chmod").arg("a+r").arg(&path).status();
    eprintln!("generated {name}: {} packets, {:.0} MiB in {:.1} s", w.packets, mib(w.bytes), t.elapsed().as_secs_f64());
    Cap { name: name.to_string(), path, w }
}

fn ordinary_mix() -> Vec<(f64, &'static str, Gen)> {
    ordinary::MIX.to_vec()
}

fn mixed_mix() -> Vec<(f64, &'static str, Gen)> {
    let mut m: Vec<_> = ordinary::MIX.iter().map(|&(s, n, g)| (s * 0.9, n, g)).collect();
    m.extend(apple::MIX);
    m
}

fn apns_1000(ctx: &mut gen::Ctx) -> gen::Session {
    apple::apns_large(ctx, 1000)
}

fn n(scale: f64, full: f64) -> u64 {
    ((full * scale).round() as u64).max(1)
}

// ------------------------------------------------------------------ tshark

struct Tshark {
    homes: [PathBuf; 2],
    nobody: bool,
    version: String,
}

impl Tshark {
    fn setup(o: &Opts) -> Tshark {
        let version = sh("tshark --version 2>/dev/null | head -1 | grep -o '[0-9]*\\.[0-9]*\\.[0-9]*' | head -1");
        let mm: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
        let base = std::env::temp_dir().join(format!("appleshark-bench-{}", std::process::id()));
        let homes = [base.join("without"), base.join("with")];
        for h in &homes {
            std::fs::create_dir_all(h.join("no-global-plugins")).unwrap();
        }
        let plugdir = homes[1].join(format!(".local/lib/wireshark/plugins/{mm}/epan"));
        std::fs::create_dir_all(&plugdir).unwrap();
        std::fs::copy(&o.plugin, plugdir.join("appleshark.so")).expect("copy the release plugin (cargo build --release --lib)");
        let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(&base).status();
        Tshark { homes, nobody: is_root(), version }
    }

    fn cmd(&self, plugin: bool, args: &[String]) -> Vec<String> {
        let home = &self.homes[usize::from(plugin)];
        let mut v: Vec<String> = Vec::new();
        if self.nobody {
            v.extend(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"].map(String::from));
        }
        v.push("env".into());
        v.push(format!("HOME={}", home.display()));
        v.push(format!("WIRESHARK_PLUGIN_DIR={}", home.join("no-global-plugins").display()));
        v.push("tshark".into());
        v.extend(args.iter().cloned());
        v
    }

    /// One timed run (stdout to /dev/null): (wall s, user+sys s, max RSS KiB).
    fn timed(&self, plugin: bool, args: &[String]) -> (f64, f64, f64) {
        let tf = std::env::temp_dir().join(format!("appleshark-bench-time-{}", std::process::id()));
        let argv = self.cmd(plugin, args);
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%e %U %S %M", "-o"])
            .arg(&tf)
            .args(&argv)
            .current_dir("/")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("/usr/bin/time runs");
        assert!(out.status.success(), "{argv:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        let t = std::fs::read_to_string(&tf).unwrap();
        let v: Vec<f64> = t.lines().last().unwrap().split_whitespace().map(|x| x.parse().unwrap()).collect();
        (v[0], v[1] + v[2], v[3])
    }

    fn stdout(&self, plugin: bool, args: &[String]) -> String {
        let argv = self.cmd(plugin, args);
        let out = Command::new(&argv[0]).args(&argv[1..]).current_dir("/").output().unwrap();
        assert!(out.status.success(), "{argv:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Frames matching each filter (one pass of `-z io,stat,0,…`).
    fn count(&self, plugin: bool, file: &Path, extra: &[String], filters: &[&str]) -> Vec<u64> {
        let mut args = vec!["-r".to_string(), file.display().to_string(), "-n".into(), "-q".into()];
        args.extend(extra.iter().cloned());
        args.push("-z".into());
        args.push(format!("io,stat,0,{}", filters.join(",")));
        let out = self.stdout(plugin, &args);
        let line = out.lines().find(|l| l.contains("<>")).expect("io,stat row");
        let cells: Vec<&str> = line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        (0..filters.len()).map(|i| cells[1 + 2 * i].parse().unwrap()).collect()
    }
}

/// The soak (issue 17 item 6): an N-packet capture of the mixed kind (10% Apple traffic),
/// through tshark without and with the plugin, in one pass and in two (`-2`); peak RSS and
/// CPU of each, and the plugin's extra memory per packet. Written to `--out` (default
/// target/bench/soak.md) and stdout.
fn soak(o: &Opts, t: &Tshark, packets: u64) {
    let cap = make(o, "soak-mixed", &mixed_mix(), Stop::Packets(packets), 64);
    let f = cap.path.display().to_string();
    let mut rep = format!(
        "Soak: {} packets ({:.0} MiB; {} of them FaceTime, SNATMAP, APNs or MPTCP), tshark {}, `tshark -n -r FILE [-2] > /dev/null`\n\n\
         | passes | without plugin: peak RSS / CPU | with plugin: peak RSS / CPU | plugin's extra memory | per packet |\n|---|---:|---:|---:|---:|\n",
        cap.w.packets, mib(cap.w.bytes), cap.w.per_kind.iter().filter(|(k, _)| ["facetime", "snatmap", "apns", "mptcp"].contains(k)).map(|(_, n)| n).sum::<u64>(),
        t.version
    );
    for (label, extra) in [("one", vec![]), ("two (`-2`)", vec!["-2".to_string()])] {
        let mut args = vec!["-n".to_string(), "-r".into(), f.clone()];
        args.extend(extra);
        let (_, c0, m0) = t.timed(false, &args);
        let (_, c1, m1) = t.timed(true, &args);
        let _ = writeln!(
            rep,
            "| {label} | {:.1} MiB / {c0:.0} s | {:.1} MiB / {c1:.0} s | {:+.1} MiB ({:+.1}%) | {:.1} bytes |",
            m0 / 1024.0, m1 / 1024.0, (m1 - m0) / 1024.0, (m1 / m0 - 1.0) * 100.0, (m1 - m0) * 1024.0 / cap.w.packets as f64
        );
        // Each row as soon as it is measured (a 10M-packet run takes minutes per variant).
        eprint!("soak: {}", rep.lines().last().map(|l| format!("{l}\n")).unwrap_or_default());
    }
    print!("{rep}");
    let out = if o.out == root().join("benches/results.md") { o.work.join("soak.md") } else { o.out.clone() };
    std::fs::write(&out, rep).unwrap();
    let _ = std::fs::remove_file(&cap.path);
}

/// MPTCP memory per segment (issue 18 item 4), as a slope: the MPTCP-only kind of capture
/// with N and with 2N sessions (the same generator, so the same mix of connection lengths),
/// peak RSS of each through stock tshark with its MPTCP analysis and through tshark with the
/// plugin (two passes, as the GUI keeps everything), median of `--runs`; the extra memory per
/// extra segment. Start-up, code pages and every fixed cost cancel in the difference.
fn mptcp_memory(o: &Opts, t: &Tshark, sessions: u64) {
    let caps: Vec<Cap> = [sessions, 2 * sessions]
        .iter()
        .map(|&k| make(o, &format!("mptcp-mem-{k}"), &[(1.0, "mptcp", apple::mptcp as Gen)], Stop::Sessions(k), 16))
        .collect();
    let variants = [("stock, -o mptcp.analyze_mptcp:TRUE", false, s(&["-o", "mptcp.analyze_mptcp:TRUE"])), ("with plugin", true, vec![])];
    let mut rep = format!(
        "MPTCP memory per segment, tshark {}, `tshark -n -2 -r FILE > /dev/null`, peak RSS medians of {} runs\n\n\
         | variant | {} segments | {} segments | per extra segment |\n|---|---:|---:|---:|\n",
        t.version, o.runs, caps[0].w.packets, caps[1].w.packets
    );
    let mut slopes = Vec::new();
    for (label, plugin, extra) in &variants {
        let rss: Vec<f64> = caps
            .iter()
            .map(|c| {
                let mut args = vec!["-n".to_string(), "-2".into(), "-r".into(), c.path.display().to_string()];
                args.extend(extra.iter().cloned());
                median((0..o.runs).map(|_| t.timed(*plugin, &args).2).collect())
            })
            .collect();
        let per = (rss[1] - rss[0]) * 1024.0 / (caps[1].w.packets - caps[0].w.packets) as f64;
        slopes.push(per);
        let _ = writeln!(rep, "| {label} | {:.1} MiB | {:.1} MiB | {per:.1} bytes |", rss[0] / 1024.0, rss[1] / 1024.0);
    }
    let _ = writeln!(rep, "\nThe plugin's own memory per segment: {:.1} bytes (target ≤ 64).", slopes[1] - slopes[0]);
    print!("{rep}");
    let out = if o.out == root().join("benches/results.md") { o.work.join("mptcp-memory.md") } else { o.out.clone() };
    std::fs::write(&out, rep).unwrap();
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

struct Variant {
    label: &'static str,
    plugin: bool,
    args: Vec<String>,
}

fn v(label: &'static str, plugin: bool, args: &[&str]) -> Variant {
    Variant { label, plugin, args: s(args) }
}

/// Medians of one variant.
#[derive(Clone, Copy, Default)]
struct M {
    wall: f64,
    cpu: f64,
    rss: f64,
}

fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = x.len();
    if n % 2 == 1 {
        x[n / 2]
    } else {
        (x[n / 2 - 1] + x[n / 2]) / 2.0
    }
}

/// Runs every variant `runs` times, alternating (ABAB…, reversed every other round).
fn measure(t: &Tshark, cap: &Cap, mode: &[&str], variants: &[Variant], runs: usize) -> Vec<M> {
    let mut samples: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); variants.len()];
    for r in 0..runs {
        let order: Vec<usize> = if r % 2 == 0 { (0..variants.len()).collect() } else { (0..variants.len()).rev().collect() };
        for i in order {
            let mut args = vec!["-r".to_string(), cap.path.display().to_string(), "-n".into()];
            args.extend(mode.iter().map(|m| m.to_string()));
            args.extend(variants[i].args.iter().cloned());
            let m = t.timed(variants[i].plugin, &args);
            eprintln!("  {} [{}] run {}: wall {:.2} s cpu {:.2} s rss {:.0} MiB", cap.name, variants[i].label, r + 1, m.0, m.1, m.2 / 1024.0);
            samples[i].push(m);
        }
    }
    samples
        .into_iter()
        .map(|s| M {
            wall: median(s.iter().map(|x| x.0).collect()),
            cpu: median(s.iter().map(|x| x.1).collect()),
            rss: median(s.iter().map(|x| x.2).collect()),
        })
        .collect()
}

// ------------------------------------------------------------------ report

struct Report {
    main: String,
    per_packet: String,
    verdicts: String,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

fn pct(r: f64) -> String {
    format!("{:+.1}%", (r - 1.0) * 100.0)
}

fn row(rep: &mut Report, case: &str, cap: &Cap, variants: &[Variant], ms: &[M], base: usize) {
    for (i, (va, m)) in variants.iter().zip(ms).enumerate() {
        let b = ms[base];
        let rel = if i == base {
            "baseline".to_string()
        } else {
            format!("{} / {} / {}", pct(ratio(m.wall, b.wall)), pct(ratio(m.cpu, b.cpu)), pct(ratio(m.rss, b.rss)))
        };
        let _ = writeln!(
            rep.main,
            "| {case} | {} | {:.0} | {} | {:.2} | {:.2} | {:.0} | {rel} |",
            cap.w.packets,
            mib(cap.w.bytes),
            va.label,
            m.wall,
            m.cpu,
            m.rss / 1024.0
        );
    }
}

fn verdict(rep: &mut Report, what: &str, measured: String, ok: bool) {
    let _ = writeln!(rep.verdicts, "| {what} | {measured} | {} |", if ok { "met" } else { "**missed**" });
}

fn per_packet(rep: &mut Report, what: &str, cap: &Cap, unit: &str, units: u64, with: M, without: M) {
    let _ = writeln!(
        rep.per_packet,
        "| {what} | {} | {units} {unit} | {:.0} | {:.0} | {:.0} |",
        cap.w.packets,
        (with.cpu - without.cpu) * 1e9 / cap.w.packets as f64,
        (with.wall - without.wall) * 1e9 / cap.w.packets as f64,
        (with.cpu - without.cpu) * 1e9 / units as f64,
    );
}

/// Criterion's results (`target/criterion/**/new/{benchmark,estimates}.json`): id → (bytes, median ns).
fn criterion_results(dir: &Path) -> BTreeMap<String, (f64, f64)> {
    fn num_after(s: &str, key: &str) -> Option<f64> {
        let i = s.find(key)? + key.len();
        let rest = s[i..].trim_start_matches([':', ' ', '{', '"']);
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-' || c == '+')).unwrap_or(rest.len());
        rest[..end].parse().ok()
    }
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.ends_with("new/benchmark.json") {
                let b = std::fs::read_to_string(&p).unwrap_or_default();
                let est = std::fs::read_to_string(p.with_file_name("estimates.json")).unwrap_or_default();
                let id = b.split("\"full_id\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("?").to_string();
                let med = est.find("\"median\"").and_then(|i| num_after(&est[i..], "\"point_estimate\""));
                if let (Some(bytes), Some(ns)) = (num_after(&b, "\"Bytes\""), med) {
                    out.insert(id, (bytes, ns));
                }
            }
        }
    }
    out
}

fn main() {
    let Some(o) = parse_args() else { return };
    let started = Instant::now();
    std::fs::create_dir_all(&o.work).unwrap();
    let _ = Command::new("chmod").args(["a+rx"]).arg(&o.work).status();
    let load_before = sh("cat /proc/loadavg");
    let t = Tshark::setup(&o);
    if let Some(packets) = o.soak {
        soak(&o, &t, packets);
        return;
    }
    if let Some(sessions) = o.mptcp_memory {
        mptcp_memory(&o, &t, sessions);
        return;
    }
    let lua = root().join("benches/lua/apns.lua");
    let lua_seen = std::env::temp_dir().join(format!("appleshark-bench-{}/apns.lua", std::process::id()));
    std::fs::copy(&lua, &lua_seen).unwrap();
    let _ = Command::new("chmod").arg("a+r").arg(&lua_seen).status();
    let lua_arg = format!("lua_script:{}", lua_seen.display());
    // The Lua dissector's topic table (SHA-1 → name), from the same list the plugin uses.
    let mut tl = String::from("return {\n");
    for name in appleshark::core::apns::topics::builtin_names() {
        let h: String = appleshark::core::apns::topics::topic_hash(name).iter().map(|b| format!("{b:02X}")).collect();
        let _ = writeln!(tl, "  [\"{h}\"] = {name:?},");
    }
    tl.push_str("}\n");
    std::fs::write(lua_seen.with_file_name("apns_topics.lua"), tl).unwrap();
    let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(lua_seen.parent().unwrap()).status();

    // Captures.
    let (sc, vs) = (o.scale, o.vscale);
    let a = make(&o, "a-ordinary", &ordinary_mix(), Stop::Packets(n(sc, 1e6)), 64);
    let b = make(&o, "b-mixed", &mixed_mix(), Stop::Packets(n(sc, 1e6)), 64);
    let c = make(&o, "c-apns", &[(1.0, "apns", apns_1000 as Gen)], Stop::Sessions(n(sc, 100.0)), 4);
    let ft = make(&o, "facetime-only", &[(1.0, "facetime", apple::facetime_call as Gen)], Stop::Sessions(n(sc, 400.0)), 8);
    let sn = make(&o, "snatmap-only", &[(1.0, "snatmap", apple::snatmap as Gen)], Stop::Sessions(n(sc, 100_000.0)), 32);
    let mp = make(&o, "mptcp-only", &[(1.0, "mptcp", apple::mptcp as Gen)], Stop::Sessions(n(sc, 2000.0)), 16);
    let av = make(&o, "a-ordinary-small", &ordinary_mix(), Stop::Packets(n(vs, 1e6)), 64);
    let bv = make(&o, "b-mixed-small", &mixed_mix(), Stop::Packets(n(vs, 1e6)), 64);
    let cv = make(&o, "c-apns-small", &[(1.0, "apns", apns_1000 as Gen)], Stop::Sessions(n(vs, 100.0)), 4);

    // What the plugin dissected, against what was written.
    let mut checks = String::new();
    let filters = ["snatmap", "facetime", "apns", "mptcp_annot", "rtp", "sip"];
    let _ = writeln!(checks, "| capture | packets written (by kind) | frames with snatmap / facetime / apns / mptcp_annot / rtp / sip (plugin) |\n|---|---|---|");
    for cap in [&a, &b, &c, &ft, &sn, &mp] {
        let counts = t.count(true, &cap.path, &[], &filters);
        let kinds: Vec<String> = cap.w.per_kind.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(checks, "| {} | {} | {} |", cap.name, kinds.join(", "), counts.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" / "));
        eprintln!("check {}: {counts:?}", cap.name);
    }
    // The Lua comparison only counts if both really dissect: apns.command values vs the generator's record.
    let fields = |plugin: bool, extra: &[&str], field: &str| -> u64 {
        let mut args = s(&["-r", &cv.path.display().to_string(), "-n"]);
        args.extend(s(extra));
        args.extend(s(&["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", field]));
        t.stdout(plugin, &args).lines().filter(|l| !l.is_empty()).map(|l| l.split(',').count() as u64).sum()
    };
    let written_cmds = cv.w.record.get("apns.command").copied().unwrap_or(0);
    let plugin_cmds = fields(true, &["-d", "tcp.port==15223,apns"], "apns.command");
    let lua_cmds = fields(false, &["-X", &lua_arg], "apnslua.command");
    let plugin_topics = fields(true, &["-d", "tcp.port==15223,apns"], "apns.topic");
    let lua_topics = fields(false, &["-X", &lua_arg], "apnslua.topic");
    let _ = writeln!(
        checks,
        "\nAPNs sample ({}): the generator wrote {written_cmds} courier messages; `apns.command` occurs {plugin_cmds} times (plugin), `apnslua.command` {lua_cmds} times (Lua); topic names resolved: {plugin_topics} (plugin), {lua_topics} (Lua).",
        cv.name
    );
    assert_eq!(plugin_cmds, written_cmds, "plugin must dissect every APNs message");
    assert_eq!(lua_cmds, written_cmds, "the Lua dissector must dissect every APNs message");

    let mut rep = Report { main: String::new(), per_packet: String::new(), verdicts: String::new() };
    let runs = o.runs;
    let plain: &[&str] = &[];
    let d_apns = ["-d", "tcp.port==15223,apns"];
    let lua_x = ["-X", lua_arg.as_str()];

    // (a), (b): without vs with.
    let wv = [v("without plugin", false, &[]), v("with plugin", true, &[])];
    let ma = measure(&t, &a, plain, &wv, runs);
    row(&mut rep, "(a) ordinary", &a, &wv, &ma, 0);
    let mb = measure(&t, &b, plain, &wv, runs);
    row(&mut rep, "(b) ordinary + 10% Apple", &b, &wv, &mb, 0);
    // (c): none, plugin by heuristic, plugin by port, Lua by port.
    let cvars = [v("without plugin", false, &[]), v("with plugin (heuristic)", true, &[]), v("with plugin (-d port)", true, &d_apns), v("Lua dissector, no plugin", false, &lua_x)];
    let mc = measure(&t, &c, plain, &cvars, runs);
    row(&mut rep, "(c) APNs only", &c, &cvars, &mc, 0);
    // FaceTime: plugin vs -d udp.port==16402,rtp.
    let fvars = [v("without plugin", false, &[]), v("without plugin, -d udp.port==16402,rtp", false, &["-d", "udp.port==16402,rtp"]), v("with plugin", true, &[])];
    let mf = measure(&t, &ft, plain, &fvars, runs);
    row(&mut rep, "FaceTime calls only", &ft, &fvars, &mf, 1);
    let ms = measure(&t, &sn, plain, &wv, runs);
    row(&mut rep, "SNATMAP only", &sn, &wv, &ms, 0);
    // MPTCP: against stock Wireshark's own MPTCP analysis too (off by default), side by side.
    let mvars = [v("without plugin", false, &[]), v("without plugin, -o mptcp.analyze_mptcp:TRUE", false, &["-o", "mptcp.analyze_mptcp:TRUE"]), v("with plugin", true, &[])];
    let mm = measure(&t, &mp, plain, &mvars, runs);
    row(&mut rep, "MPTCP only", &mp, &mvars, &mm, 1);

    // -V on the small captures.
    let mut verbose = String::new();
    let vruns = runs.min(3);
    let va = measure(&t, &av, &["-V"], &wv, vruns);
    let vb = measure(&t, &bv, &["-V"], &wv, vruns);
    let cvv = [v("without plugin", false, &[]), v("with plugin (-d port)", true, &d_apns), v("Lua dissector, no plugin", false, &lua_x)];
    let vc = measure(&t, &cv, &["-V"], &cvv, vruns);
    {
        let mut r = Report { main: String::new(), per_packet: String::new(), verdicts: String::new() };
        row(&mut r, "(a) ordinary, -V", &av, &wv, &va, 0);
        row(&mut r, "(b) mixed, -V", &bv, &wv, &vb, 0);
        row(&mut r, "(c) APNs, -V", &cv, &cvv, &vc, 0);
        verbose = r.main + &verbose;
    }

    // Per-packet costs (Δ over the same capture without the plugin).
    let msgs_c = c.w.record.get("apns.message").copied().unwrap_or(0);
    per_packet(&mut rep, "plugin on ordinary traffic (a): heuristics + MPTCP post-dissector", &a, "packets", a.w.packets, ma[1], ma[0]);
    per_packet(&mut rep, "plugin on mixed traffic (b)", &b, "packets", b.w.packets, mb[1], mb[0]);
    per_packet(&mut rep, "SNATMAP (snatmap-only)", &sn, "messages", sn.w.record.get("snatmap").copied().unwrap_or(0), ms[1], ms[0]);
    per_packet(&mut rep, "FaceTime mux, vs no plugin", &ft, "packets", ft.w.packets, mf[2], mf[0]);
    per_packet(&mut rep, "FaceTime mux, vs -d udp.port==16402,rtp", &ft, "packets", ft.w.packets, mf[2], mf[1]);
    per_packet(&mut rep, "APNs (c), heuristic", &c, "messages", msgs_c, mc[1], mc[0]);
    per_packet(&mut rep, "APNs (c), -d port", &c, "messages", msgs_c, mc[2], mc[0]);
    per_packet(&mut rep, "Lua APNs (c), for comparison", &c, "messages", msgs_c, mc[3], mc[0]);
    per_packet(&mut rep, "MPTCP annotations (mptcp-only)", &mp, "packets", mp.w.packets, mm[2], mm[0]);
    per_packet(&mut rep, "MPTCP annotations, vs stock's MPTCP analysis", &mp, "packets", mp.w.packets, mm[2], mm[1]);

    // Targets.
    let ra = (ratio(ma[1].wall, ma[0].wall), ratio(ma[1].rss, ma[0].rss));
    verdict(&mut rep, "(a) wall time +≤3%, peak memory +≤5%", format!("wall {}, memory {}", pct(ra.0), pct(ra.1)), ra.0 <= 1.03 && ra.1 <= 1.05);
    let rb = (ratio(mb[1].wall, mb[0].wall), ratio(mb[1].rss, mb[0].rss));
    verdict(&mut rep, "(b) wall time and peak memory +≤10%", format!("wall {}, memory {}", pct(rb.0), pct(rb.1)), rb.0 <= 1.10 && rb.1 <= 1.10);
    let rm = (ratio(mm[2].cpu, mm[1].cpu), ratio(mm[2].rss, mm[1].rss));
    verdict(
        &mut rep,
        "MPTCP: CPU and peak memory +≤5% over stock's own MPTCP analysis (`-o mptcp.analyze_mptcp:TRUE`)",
        format!("CPU {}, memory {}", pct(rm.0), pct(rm.1)),
        rm.0 <= 1.05 && rm.1 <= 1.05,
    );
    let rf = ratio(mf[2].wall, mf[1].wall);
    verdict(&mut rep, "FaceTime demux ≤10% more than `-d udp.port==16402,rtp`", format!("wall {} (CPU {})", pct(rf), pct(ratio(mf[2].cpu, mf[1].cpu))), rf <= 1.10);
    let dl = (mc[3].cpu - mc[0].cpu) / (mc[2].cpu - mc[0].cpu);
    let tl = ratio(mc[3].wall, mc[2].wall);
    verdict(
        &mut rep,
        "APNs ≥3× faster than Lua (dissection CPU beyond plain TCP, same port)",
        format!("Lua costs {dl:.1}× the plugin's dissection CPU (whole run: Lua {tl:.2}× the plugin's wall time; -V: {:.2}×)", ratio(vc[2].wall, vc[1].wall)),
        dl >= 3.0,
    );
    let crit = criterion_results(&o.criterion);
    let mut ctable = String::from("| parser (criterion) | input per iteration | median time | throughput |\n|---|---|---|---|\n");
    let mut slow = Vec::new();
    for (id, (bytes, ns)) in &crit {
        let gbs = bytes / ns;
        let _ = writeln!(ctable, "| {id} | {bytes:.0} B | {:.1} µs | {gbs:.2} GB/s |", ns / 1000.0);
        if gbs < 1.0 {
            slow.push(format!("{id} {gbs:.2} GB/s"));
        }
    }
    if crit.is_empty() {
        ctable.push_str("| (no criterion results found: run `cargo bench --bench parsers` first) | | | |\n");
    } else {
        verdict(&mut rep, "core parsers ≥1 GB/s", if slow.is_empty() { "all".into() } else { format!("below: {}", slow.join(", ")) }, slow.is_empty());
    }

    let load_after = sh("cat /proc/loadavg");
    let cpu = sh("lscpu | grep -E '^(Model name|CPU\\(s\\))' | sed 's/  */ /g' | tr '\\n' ';'");
    let mem = sh("free -g | awk '/Mem:/{print $2\" GiB\"}'");
    let mut md = String::new();
    let _ = writeln!(md, "<!-- written by benches/run.sh; do not edit by hand -->");
    let _ = writeln!(
        md,
        "Machine: {cpu} RAM {mem}; tshark {}; {} runs per variant (medians), alternating; scale {sc} (−V: {vs}). \
         Load average before: `{load_before}`, after: `{load_after}`. Took {:.0} s.\n",
        t.version,
        runs,
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(md, "### Targets\n\n| target | measured | |\n|---|---|---|\n{}", rep.verdicts);
    let _ = writeln!(md, "### tshark -r FILE -n > /dev/null (no protocol tree)\n\n| capture | packets | MiB | variant | wall s | CPU s | peak RSS MiB | Δ wall / CPU / RSS |\n|---|---|---|---|---|---|---|---|\n{}", rep.main);
    let _ = writeln!(md, "### tshark -r FILE -n -V > /dev/null (full tree), smaller captures\n\n| capture | packets | MiB | variant | wall s | CPU s | peak RSS MiB | Δ wall / CPU / RSS |\n|---|---|---|---|---|---|---|---|\n{verbose}");
    let _ = writeln!(md, "### Per-packet cost of each dissector (Δ median over the same capture without it)\n\n| dissector (capture) | packets | units | Δ CPU ns/packet | Δ wall ns/packet | Δ CPU ns/unit |\n|---|---|---|---|---|---|\n{}", rep.per_packet);
    let _ = writeln!(md, "### Core parsers\n\n{ctable}");
    let _ = writeln!(md, "### What was dissected\n\n{checks}");
    std::fs::write(&o.out, &md).unwrap();
    println!("{md}");
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("appleshark-bench-{}", std::process::id())));
}
