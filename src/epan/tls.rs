//! TLS hand-off: dissectors for decrypted TLS application data.
//!
//! Wireshark's TLS dissector hands decrypted data to whatever is registered for the
//! negotiated ALPN (the "tls.alpn" string table, see [`Handle::add_string`]) or for the
//! port ("tls.port"). [`Handle::add_tls_port`] does what Wireshark's own dissectors do with
//! `ssl_dissector_add()`: the TCP port goes to TLS and TLS's data on it to this handle.

use super::handoff::Handle;
use super::sys;

impl Handle {
    /// TCP `port` is TLS, and its decrypted application data is this handle's
    /// (`ssl_dissector_add`). Call in the handoff phase.
    pub fn add_tls_port(&self, port: u32) {
        assert!(self.is_set());
        // SAFETY: handoff phase; the handle is registered; ssl_dissector_add only updates
        // dissector tables.
        unsafe { sys::appleshark_tls_port_add(port, self.get()) }
    }
}
