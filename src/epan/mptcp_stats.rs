//! A statistics table with one row per key (e.g. per MPTCP connection), shown by
//! `tshark -z <cli>[,filter]` and in the GUI's Statistics menu (Wireshark's
//! `stat_tap_table_ui`).
//!
//! The dissector computes a whole row and queues it for the frame with
//! [`StatTable::queue_row`]; the table keeps, per row index, the last row queued. Queue
//! rows only when [`StatTable::wanted`] (someone listens), so unused statistics cost nothing.

use super::packet::{cstring, Packet};
use super::sys;
use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicI32, Ordering};

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Uint,
    Float,
    Str,
}

/// One column: title, type and printf format (used by tshark: `%u`, `%.3f`, `%s`, widths).
pub struct Column {
    pub name: &'static CStr,
    pub ty: ColType,
    pub format: &'static CStr,
}

/// A cell of a row being queued.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Uint(u32),
    Float(f64),
    Str(String),
    /// Shown as "-".
    Empty,
}

/// A registered table (a `static`).
pub struct StatTable {
    tap: AtomicI32,
}

impl StatTable {
    pub const fn new() -> Self {
        StatTable { tap: AtomicI32::new(-1) }
    }

    /// Registers the tap `tap_name` and the table (register_protoinfo phase).
    pub fn register(&self, title: &'static CStr, tap_name: &'static CStr, cli: &'static CStr, cols: &'static [Column]) {
        let names: Vec<*const c_char> = cols.iter().map(|c| c.name.as_ptr()).collect();
        let formats: Vec<*const c_char> = cols.iter().map(|c| c.format.as_ptr()).collect();
        let types: Vec<c_int> = cols
            .iter()
            .map(|c| {
                (match c.ty {
                    ColType::Uint => sys::APPLESHARK_CELL_UINT,
                    ColType::Float => sys::APPLESHARK_CELL_FLOAT,
                    ColType::Str => sys::APPLESHARK_CELL_STRING,
                }) as c_int
            })
            .collect();
        // SAFETY: registration phase; names/formats are 'static; the arrays are copied by C.
        let id = unsafe {
            sys::appleshark_stat_register(
                title.as_ptr(),
                tap_name.as_ptr(),
                cli.as_ptr(),
                cols.len() as _,
                names.as_ptr(),
                types.as_ptr(),
                formats.as_ptr(),
            )
        };
        self.tap.store(id, Ordering::Relaxed);
    }

    /// True when a listener (tshark -z, the GUI dialog) is attached.
    pub fn wanted(&self) -> bool {
        // SAFETY: reads Wireshark's tap list; tap ids below 0 are refused by the shim.
        unsafe { sys::appleshark_tap_has_listener(self.tap.load(Ordering::Relaxed)) != 0 }
    }

    /// Queues `cells` as row `row` for this frame (copied into packet scope).
    pub fn queue_row(&self, pkt: &Packet<'_>, row: u32, cells: &[Cell]) {
        let strings: Vec<std::ffi::CString> = cells
            .iter()
            .map(|c| match c {
                Cell::Str(s) => cstring(s),
                _ => cstring(""),
            })
            .collect();
        let raw: Vec<sys::appleshark_stat_cell> = cells
            .iter()
            .zip(&strings)
            .map(|(c, s)| {
                let mut r = sys::appleshark_stat_cell::default();
                match c {
                    Cell::Uint(v) => {
                        r.type_ = sys::APPLESHARK_CELL_UINT as _;
                        r.uint_value = *v as _;
                    }
                    Cell::Float(v) => {
                        r.type_ = sys::APPLESHARK_CELL_FLOAT as _;
                        r.float_value = *v;
                    }
                    Cell::Str(_) => {
                        r.type_ = sys::APPLESHARK_CELL_STRING as _;
                        r.string_value = s.as_ptr();
                    }
                    Cell::Empty => r.type_ = sys::APPLESHARK_CELL_EMPTY as _,
                }
                r
            })
            .collect();
        // SAFETY: pinfo is live; the shim copies the cells and strings into packet scope.
        unsafe { sys::appleshark_stat_queue_row(self.tap.load(Ordering::Relaxed), pkt.pinfo, row, raw.len() as _, raw.as_ptr()) }
    }
}

impl Default for StatTable {
    fn default() -> Self {
        Self::new()
    }
}
