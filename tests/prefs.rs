//! Preferences that make no sense are refused with a message, as Wireshark refuses a bad `-o`
//! value, and the default is used instead: the dissection is then the default one (the
//! expected readings come from the bundled samples' generators, see tests/samples.rs).

mod support;

use support::Tshark;

fn sample(t: &Tshark, name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name);
    t.capture(name, &std::fs::read(path).unwrap())
}

/// `snatmap.max_requests:0` would match no response to any request: refused, 65,536 used.
#[test]
fn snatmap_max_requests_zero_is_refused() {
    let t = Tshark::get();
    let file = sample(t, "snatmap-demo.pcap");
    let args = ["-r", file.as_str(), "-n", "-2", "-o", "snatmap.max_requests:0", "-T", "fields", "-e", "snatmap.response_to"];
    let out = t.run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("snatmap.max_requests must be at least 1") && err.contains("using 65536"), "{err}");
    // As with the default: the generator's responses in frames 2 and 5 answer the requests in
    // frames 1 and 3; frame 6 is its stray response (a nonce no request used).
    let linked: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(String::from).collect();
    assert_eq!(linked, ["1", "3"]);
    // A sensible value is taken silently.
    let out = t.run(&["-r", file.as_str(), "-n", "-o", "snatmap.max_requests:10"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("appleshark"));
}

/// `apns.max_message_size:0` would report every message with a payload as too large.
#[test]
fn apns_max_message_size_zero_is_refused() {
    let t = Tshark::get();
    let file = sample(t, "apns-demo.pcap");
    let out = t.run(&["-r", file.as_str(), "-n", "-o", "apns.max_message_size:0", "-T", "fields", "-e", "apns.too_large"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apns.max_message_size must be at least 1"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).lines().all(|l| l.is_empty()), "no message reported too large");
    // While a small but possible maximum is used as given.
    let out = t.run(&["-r", file.as_str(), "-n", "-o", "apns.max_message_size:100", "-Y", "apns.too_large", "-T", "fields", "-e", "frame.number"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("appleshark"));
    assert!(!String::from_utf8_lossy(&out.stdout).trim().is_empty(), "the sample's push is larger than 100 bytes");
}
