//! User tables (UAT): a one-column list of names the user edits in the protocol's
//! preferences (stored in the profile, `-o "uat:<name>:\"value\""` on the command line).

use super::registry::Protocol;
use super::sys;
use std::ffi::{c_char, c_uint, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

static CALLBACK: OnceLock<fn(&[String])> = OnceLock::new();

unsafe extern "C" fn trampoline(names: *const *const c_char, count: c_uint) {
    let mut v = Vec::with_capacity(count.min(65_536) as usize);
    if !names.is_null() {
        for i in 0..count as usize {
            // SAFETY: the shim passes `count` valid NUL-terminated strings (never NULL).
            let p = *names.add(i);
            if !p.is_null() {
                v.push(CStr::from_ptr(p).to_string_lossy().into_owned());
            }
        }
    }
    if let Some(cb) = CALLBACK.get() {
        // A panic must not unwind into C.
        let _ = catch_unwind(AssertUnwindSafe(|| cb(&v)));
    }
}

/// A name-list table for `proto`. `on_update` gets every name after the table was loaded or
/// edited (and an empty list when it is reset). One such table per plugin; returns false if
/// it could not be registered. Call in the register phase, after the protocol's
/// preferences were registered.
#[allow(clippy::too_many_arguments)]
pub fn register_name_list(
    proto: &'static Protocol,
    pref_name: &'static CStr,
    uat_name: &'static CStr,
    title: &'static CStr,
    description: &'static CStr,
    column_title: &'static CStr,
    column_description: &'static CStr,
    on_update: fn(&[String]),
) -> bool {
    if CALLBACK.set(on_update).is_err() {
        return false;
    }
    // SAFETY: registration phase; every string is 'static as Wireshark keeps the pointers.
    unsafe {
        sys::appleshark_uat_name_list(
            proto.filter_name.as_ptr(),
            pref_name.as_ptr(),
            uat_name.as_ptr(),
            title.as_ptr(),
            description.as_ptr(),
            column_title.as_ptr(),
            column_description.as_ptr(),
            Some(trampoline),
        ) == 0
    }
}
