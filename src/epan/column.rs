//! Columns beyond what a plain column call does (`wireshark-headers/shim_column.c`): putting
//! text in front of an Info column another dissector left read-only.

use super::cbuf::CBuf;
use super::packet::Packet;
use super::sys;

impl Packet<'_> {
    /// Puts `text` in front of the Info column, even where a dissector left the column
    /// read-only (for post-dissectors, which run last).
    pub fn prepend_info(&mut self, text: &str) {
        if !self.wants_columns() {
            return;
        }
        let mut c = CBuf::from_str(text);
        // SAFETY: pinfo is valid for the call; the shim copies the string.
        unsafe { sys::appleshark_col_prepend_info(self.pinfo, c.as_ptr()) }
    }
}
