//! The bundled samples are exactly what the generator writes, and the plugin reads them.

mod support;

use support::{samples as samples_gen, Tshark};

#[test]
fn committed_samples_match_the_generator() {
    for (name, bytes) in samples_gen::all() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name);
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `cargo run --example make_samples`)", path.display()));
        assert!(committed == bytes, "samples/{name} differs from the generator: run `cargo run --example make_samples`");
    }
}

#[test]
fn snatmap_demo_reads_as_the_generator_wrote_it() {
    let t = Tshark::get();
    let file = t.capture("snatmap-demo.pcap", &samples_gen::snatmap_demo());
    let got = t.fields(&file, Some("snatmap"), &["frame.number", "snatmap.type", "snatmap.nat", "snatmap.port_preserved", "snatmap.retransmission_of"], &["-2"]);
    let rows: Vec<String> = got.iter().map(|r| r.join(" ")).collect();
    assert_eq!(rows, ["1 1   ", "2 2 1 1 ", "3 1   ", "4 1   3", "5 2 1 0 ", "6 2   "]);
}
