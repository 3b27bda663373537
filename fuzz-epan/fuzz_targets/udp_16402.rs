#![no_main]
// Frames built by fuzz-epan/src/frames.rs (Target::Udp16402), dissected by libwireshark with the
// plugin registered; the same frames are replayed through tshark by tests/epan_fuzz_replay.rs.
libfuzzer_sys::fuzz_target!(init: appleshark_fuzz_epan::init(), |data: &[u8]| appleshark_fuzz_epan::run(appleshark_fuzz_epan::Target::Udp16402, data));
