//! Writes the bundled sample captures in `samples/` (run: `cargo run --example make_samples`).
//! The same generator code as the tests (`tests/support`); `tests/samples.rs` checks that the
//! committed files are exactly what this program writes.

#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::path::Path;

use support::samples;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in samples::all() {
        std::fs::write(dir.join(name), bytes).unwrap();
        println!("wrote samples/{name}");
    }
}
