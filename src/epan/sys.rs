//! Raw bindings to epan, generated at build time by bindgen from `wireshark-headers/wrapper.h`
//! against the headers of the Wireshark being built for (see build.rs). Nothing generated
//! from Wireshark's headers is committed.
#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case, dead_code)]
#![allow(clippy::all, unnecessary_transmutes, improper_ctypes)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
