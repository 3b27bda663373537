//! Checks the fixture generator in `tests/support` byte-for-byte and, independently,
//! with the real tshark without the plugin ([`Tshark::stock`]: an appleshark installed
//! system-wide is not loaded either; its MPTCP post-dissector would add expert infos).
//! Neutral ports only.
//!
//! Checksum status values in tshark 4.0 (`tshark -G values`, `*.checksum.status`):
//! 0 Bad, 1 Good, 2 Unverified, 3 Not present, 4 Illegal.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use support::packet::{checksum, ipv4, mac_for, tcp, udp};
use support::*;

const GOOD: &str = "1";
const UNVERIFIED: &str = "2";
const NOT_PRESENT: &str = "3";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Runs stock tshark (no appleshark, not even a copy installed system-wide: see
/// [`Tshark::stock`]) on `path` with checksum validation on; returns stdout.
fn tshark(path: &Path, args: &[&str]) -> String {
    let t = Tshark::host_stock();
    let name = path.file_name().and_then(|n| n.to_str()).expect("a file name");
    let seen = t.capture(name, &std::fs::read(path).unwrap());
    let mut all = vec!["-r", seen.as_str()];
    all.extend(["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"]);
    all.extend_from_slice(args);
    t.stdout(&all)
}

/// `-T fields` output: one row per frame, one column per field.
fn fields(path: &Path, names: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["-T", "fields"];
    for n in names {
        args.extend(["-e", n]);
    }
    let text = tshark(path, &args);
    text.lines()
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

/// Writes `cap` to a fresh temp file; the file is removed when the guard drops.
struct TempPcap(std::path::PathBuf);
impl Drop for TempPcap {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
fn write_temp(cap: &Capture, stem: &str) -> TempPcap {
    let p = temp_pcap_path(stem);
    cap.write_to(&p).unwrap();
    TempPcap(p)
}

/// MP_CAPABLE v1 options for SYN, SYN/ACK and third ACK (no DSS checksums).
fn mp_capable() -> [Vec<u8>; 3] {
    let (ka, kb) = ([0xaa; 8], [0xbb; 8]);
    [
        opt::raw(30, &[0x01, 0x01]),
        opt::raw(30, &[&[0x01u8, 0x01][..], &kb].concat()),
        opt::raw(30, &[&[0x01u8, 0x01][..], &ka, &kb].concat()),
    ]
}

#[test]
fn checksum_matches_rfc1071_and_verifies_to_zero() {
    assert_eq!(
        checksum(&[&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]]),
        !0xddf2
    );
    // Odd split across parts must not matter.
    assert_eq!(
        checksum(&[&[0x00, 0x01, 0xf2], &[0x03, 0xf4, 0xf5, 0xf6, 0xf7]]),
        !0xddf2
    );
    let p = ipv4(
        "10.0.0.1".parse().unwrap(),
        "10.0.0.2".parse().unwrap(),
        17,
        &IpParams::default(),
        b"x",
    );
    assert_eq!(checksum(&[&p[..20]]), 0);
    assert_eq!(mac_for("10.1.2.3".parse().unwrap()), [2, 0, 10, 1, 2, 3]);
    // Options are padded with EOL to a multiple of 4 and the data offset follows.
    let h = TcpHeader {
        options: opt::mss(1460).into_iter().chain([1, 3, 3, 7]).collect(),
        ..Default::default()
    };
    let seg = tcp(sa("10.0.0.1:1"), sa("10.0.0.2:2"), &h, b"");
    assert_eq!(seg.len(), 20 + 8);
    assert_eq!(seg[12] >> 4, 7);
    assert_eq!(&seg[20..], &[2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
    let h = TcpHeader {
        options: opt::wscale(7),
        ..Default::default()
    };
    assert_eq!(
        &tcp(sa("10.0.0.1:1"), sa("10.0.0.2:2"), &h, b"")[20..],
        &[3, 3, 7, 0]
    );
}

#[test]
fn pcap_layout_is_nanosecond_little_endian() {
    let mut cap = Capture::new().clock(Duration::new(1_000, 5), Duration::from_nanos(10));
    cap.push(vec![1, 2, 3]).push_truncated(vec![9; 100], 10);
    let b = cap.to_bytes();
    assert_eq!(&b[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
    assert_eq!(&b[20..24], &1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    let rec = |off: usize, i: usize| {
        u32::from_le_bytes(b[off + 4 * i..off + 4 * i + 4].try_into().unwrap())
    };
    assert_eq!(
        (rec(24, 0), rec(24, 1), rec(24, 2), rec(24, 3)),
        (1_000, 5, 3, 3)
    );
    assert_eq!(
        (rec(43, 0), rec(43, 1), rec(43, 2), rec(43, 3)),
        (1_000, 15, 10, 100)
    );
    assert_eq!(b.len(), 24 + 16 + 3 + 16 + 10);
    assert_eq!(&Capture::raw().to_bytes()[20..24], &101u32.to_le_bytes());
}

#[test]
fn tcp_flow_tracks_both_directions() {
    let mut t = TcpFlow::new(sa("10.0.0.1:40000"), sa("10.0.0.2:40001")).isn(u32::MAX - 1, 7);
    t.handshake(&[], &[], &[]);
    assert_eq!((t.seq(Dir::ToServer), t.seq(Dir::ToClient)), (u32::MAX, 8));
    t.send(Dir::ToServer, b"abc", &[]); // wraps
    t.send(Dir::ToClient, b"xy", &[]);
    assert_eq!((t.seq(Dir::ToServer), t.seq(Dir::ToClient)), (2, 10));
    t.close();
    assert_eq!((t.seq(Dir::ToServer), t.seq(Dir::ToClient)), (3, 11));
}

#[test]
fn tshark_verifies_checksums_addresses_ports_and_seqs() {
    let mut cap = Capture::new();
    let mut u4 = Flow::udp(sa("10.0.0.1:40000"), sa("10.0.0.2:40001"));
    let mut u6 = Flow::udp(sa("[2001:db8::1]:40002"), sa("[2001:db8::2]:40003"));
    let mut nochk = Flow::udp(sa("10.0.0.3:40004"), sa("10.0.0.4:40005")).without_checksum();
    let mut t4 = TcpFlow::new(sa("192.0.2.1:40006"), sa("198.51.100.7:40007"));
    let mut t6 = TcpFlow::new(sa("[2001:db8::a]:40008"), sa("[2001:db8::b]:40009")).isn(1, 2);
    let syn = [
        opt::mss(1460),
        opt::sack_perm(),
        opt::timestamps(1, 0),
        opt::nop(),
        opt::wscale(7),
    ]
    .concat();
    let [mp_syn, mp_synack, mp_ack] = mp_capable();
    let synack_opts = [opt::mss(1400), opt::sack_perm(), opt::wscale(3), mp_synack].concat();
    let ack_opts = [opt::timestamps(3, 2), mp_ack].concat(); // 30 bytes: needs 2 bytes of padding

    cap.push(u4.packet(b"hello")).push(u4.reply(b"world!")); // 1, 2
    cap.push(u6.packet(b"v6 hello")).push(u6.reply(b"")); // 3, 4
    cap.push(nochk.packet(b"no checksum")); // 5
    cap.extend(t4.handshake(&[&syn[..], &mp_syn].concat(), &synack_opts, &ack_opts)); // 6, 7, 8
    cap.push(t4.send(Dir::ToServer, b"odd length", &opt::timestamps(5, 1))); // 9
    cap.push_truncated(t4.send(Dir::ToClient, &[0x5a; 300], &[]), 60); // 10: truncated
    cap.extend(t4.close()); // 11, 12, 13
    cap.extend(t6.handshake(&opt::mss(1220), &opt::mss(1220), &[])); // 14, 15, 16
    cap.push(t6.send(Dir::ToServer, b"v6 data", &[])); // 17
    let f = write_temp(&cap, "checksums");

    let names = [
        "frame.number",
        "ip.checksum.status",
        "udp.checksum.status",
        "tcp.checksum.status",
        "ipv6.src",
        "tcp.seq_raw",
        "tcp.options",
        "ip.src",
        "udp.srcport",
        "tcp.srcport",
        "tcp.ack_raw",
        "frame.cap_len",
        "frame.len",
        "_ws.expert.message",
    ];
    let rows = fields(&f.0, &names);
    assert_eq!(rows.len(), 17, "{rows:#?}");
    let col =
        |i: usize, name: &str| rows[i - 1][names.iter().position(|n| *n == name).unwrap()].as_str();

    for i in [1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13] {
        assert_eq!(col(i, "ip.checksum.status"), GOOD, "frame {i} IPv4 header");
    }
    for i in [1, 2, 3, 4] {
        assert_eq!(col(i, "udp.checksum.status"), GOOD, "frame {i} UDP");
    }
    assert_eq!(col(5, "udp.checksum.status"), NOT_PRESENT);
    for i in [6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17] {
        assert_eq!(col(i, "tcp.checksum.status"), GOOD, "frame {i} TCP");
    }
    assert_eq!(
        col(10, "tcp.checksum.status"),
        UNVERIFIED,
        "truncated payload cannot be verified"
    );
    assert_eq!(
        (col(10, "frame.cap_len"), col(10, "frame.len")),
        ("60", "354")
    );

    assert_eq!(
        (col(1, "ip.src"), col(1, "udp.srcport")),
        ("10.0.0.1", "40000")
    );
    assert_eq!(
        (col(2, "ip.src"), col(2, "udp.srcport")),
        ("10.0.0.2", "40001")
    );
    assert_eq!(col(3, "ipv6.src"), "2001:db8::1");
    assert_eq!(col(4, "ipv6.src"), "2001:db8::2");
    assert_eq!(
        (col(6, "ip.src"), col(6, "tcp.srcport")),
        ("192.0.2.1", "40006")
    );
    assert_eq!(
        (col(17, "ipv6.src"), col(17, "tcp.srcport")),
        ("2001:db8::a", "40008")
    );

    let (c, s) = (TcpFlow::CLIENT_ISN, TcpFlow::SERVER_ISN);
    let seq_ack = |i| {
        (
            col(i, "tcp.seq_raw").to_string(),
            col(i, "tcp.ack_raw").to_string(),
        )
    };
    let want = |a: u32, b: u32| (a.to_string(), b.to_string());
    assert_eq!(seq_ack(6), want(c, 0));
    assert_eq!(seq_ack(7), want(s, c + 1));
    assert_eq!(seq_ack(9), want(c + 1, s + 1));
    assert_eq!(seq_ack(10), want(s + 1, c + 11));
    assert_eq!(seq_ack(13), want(c + 12, s + 302));
    assert_eq!(seq_ack(17), want(2, 3));

    // Options come back exactly, padded to 4 bytes with EOL.
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(col(6, "tcp.options"), hex(&[&syn[..], &mp_syn].concat()));
    assert_eq!(
        col(8, "tcp.options"),
        hex(&[&ack_opts[..], &[0, 0]].concat())
    );
    assert_eq!(col(14, "tcp.options"), "020404c4");

    // Only the informational handshake/close items; nothing malformed or bad.
    let verbose = tshark(&f.0, &["-V"]);
    for line in verbose.lines().filter(|l| l.contains("Expert Info")) {
        assert!(
            line.contains("(Chat/Sequence)") || line.contains("(Note/Sequence)"),
            "{line}"
        );
    }
}

#[test]
fn tshark_finds_no_expert_info_in_midstream_traffic() {
    let mut cap = Capture::new();
    let mut u = Flow::udp(sa("10.0.0.1:40010"), sa("10.0.0.2:40011"));
    let mut t = TcpFlow::new(sa("[2001:db8::1]:40012"), sa("[2001:db8::2]:40013"));
    cap.push(u.packet(&[1; 1200])).push(u.reply(b"ok"));
    // One message in three segments, then three messages in one segment.
    for chunk in [&b"part one "[..], b"part two ", b"part three"] {
        cap.push(t.send(Dir::ToServer, chunk, &opt::timestamps(10, 20)));
    }
    cap.push(t.ack(Dir::ToClient, &opt::timestamps(21, 10)));
    cap.push(t.send(Dir::ToClient, b"m1\nm2\nm3\n", &opt::timestamps(22, 10)));
    cap.push(t.ack(Dir::ToServer, &opt::timestamps(11, 22)));
    let f = write_temp(&cap, "noexpert");
    let verbose = tshark(&f.0, &["-V"]);
    assert!(verbose.contains("Frame 8:"), "{verbose}");
    let experts: Vec<&str> = verbose
        .lines()
        .filter(|l| l.contains("Expert Info"))
        .collect();
    assert!(experts.is_empty(), "{experts:#?}");
}

#[test]
fn tshark_confirms_a_deliberately_bad_checksum() {
    let mut cap = Capture::new();
    let mut u = Flow::udp(sa("10.0.0.1:40020"), sa("10.0.0.2:40021"));
    let mut bad = u.packet(b"payload");
    *bad.last_mut().unwrap() ^= 0xff;
    cap.push(u.packet(b"payload")).push(bad);
    let f = write_temp(&cap, "badsum");
    let rows = fields(&f.0, &["udp.checksum.status"]);
    assert_eq!(rows, vec![vec![GOOD.to_string()], vec!["0".to_string()]]);
}

#[test]
fn tshark_reads_linktype_raw() {
    let mut cap = Capture::raw();
    let mut u = Flow::udp(sa("10.9.8.7:40030"), sa("10.9.8.6:40031")).raw_ip();
    let mut t = TcpFlow::new(sa("[2001:db8::5]:40032"), sa("[2001:db8::6]:40033")).raw_ip();
    cap.push(u.packet(b"raw v4"));
    cap.extend(t.handshake(&[], &[], &[]));
    assert_eq!(
        udp(sa("10.9.8.7:1"), sa("10.9.8.6:2"), b"", false)[6..8],
        [0, 0]
    );
    let f = write_temp(&cap, "raw");
    let rows = fields(
        &f.0,
        &[
            "frame.protocols",
            "udp.checksum.status",
            "tcp.checksum.status",
            "ipv6.dst",
        ],
    );
    assert_eq!(rows[0][..2], ["raw:ip:udp:data", GOOD]);
    for r in &rows[1..] {
        assert_eq!(r[0], "raw:ipv6:tcp");
        assert_eq!(r[2], GOOD);
    }
    assert_eq!(rows[1][3], "2001:db8::6");
}
