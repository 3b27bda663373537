#![no_main]
// Body shared with the corpus replay test (tests/fuzz_replay.rs): src/core/fuzz_bodies.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| appleshark::core::fuzz_bodies::apns_packed(data));
