//! Preferences: `'static` cells that Wireshark writes through a pointer and Rust reads.
//!
//! Wireshark changes preferences only between dissections, on the thread that dissects.

use super::registry::Protocol;
use super::sys;
use super::version::{pref_bool, pref_bool_get, PrefBoolRepr};
use std::cell::UnsafeCell;
use std::ffi::{c_uint, CStr};
use super::packet::cstring;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::Mutex;

/// An unsigned-integer preference.
pub struct PrefUint(AtomicU32);

impl PrefUint {
    pub const fn new(default: u32) -> Self {
        PrefUint(AtomicU32::new(default))
    }
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
    /// Puts a value back (from a preference check, when the user's value cannot be used).
    pub fn set(&self, v: u32) {
        self.0.store(v, Ordering::Relaxed)
    }
}

/// A boolean preference (its storage type follows the Wireshark version).
pub struct PrefBool(UnsafeCell<PrefBoolRepr>);

// SAFETY: written by Wireshark's preference code between dissections; read during dissection
// on the same thread. Reads are plain loads of an int/bool.
unsafe impl Sync for PrefBool {}

impl PrefBool {
    pub const fn new(default: bool) -> Self {
        PrefBool(UnsafeCell::new(pref_bool(default)))
    }
    pub fn get(&self) -> bool {
        // SAFETY: see the Sync impl; read_volatile because C writes it behind our back.
        pref_bool_get(unsafe { std::ptr::read_volatile(self.0.get()) })
    }
}

/// A range-of-ports preference ("16393-16472,5678").
pub struct PrefRange {
    range: AtomicPtr<sys::range_t>,
    default: &'static CStr,
}

impl PrefRange {
    pub const fn new(default: &'static CStr) -> Self {
        PrefRange { range: AtomicPtr::new(std::ptr::null_mut()), default }
    }
    pub fn contains(&self, v: u32) -> bool {
        let r = self.range.load(Ordering::Relaxed);
        // SAFETY: NULL-checked; value_is_in_range only reads the range Wireshark owns.
        // The return type is gboolean in 4.0 and bool later: `as i32` reads both.
        #[allow(clippy::unnecessary_cast)]
        let hit = !r.is_null() && unsafe { sys::value_is_in_range(r, v) as i32 != 0 };
        hit
    }
}

/// A protocol's preference module (the protocol's page in Preferences, `-o proto.name:value`).
pub struct Prefs {
    module: *mut sys::module_t,
}

/// A check run after the user changed preferences (`-o`, the Preferences dialog): it puts
/// back a value that cannot be used and returns the message saying so.
pub type PrefCheck = fn() -> Option<String>;

static CHECKS: Mutex<Vec<PrefCheck>> = Mutex::new(Vec::new());

/// The apply callback of every module with checks: runs them all (each is idempotent) and
/// reports what they found the way Wireshark reports a bad preference (tshark: on stderr; the
/// GUI: a dialog).
unsafe extern "C" fn apply_checks() {
    let msgs: Vec<String> = catch_unwind(|| {
        let checks = CHECKS.lock().map(|c| c.clone()).unwrap_or_default();
        checks.iter().filter_map(|c| c()).collect()
    })
    .unwrap_or_default();
    for m in msgs {
        let c = cstring(&format!("appleshark: {m}"));
        // SAFETY: the shim passes the string through "%s"; it is copied before returning.
        unsafe { sys::appleshark_report_failure(c.as_ptr()) };
    }
}

impl Protocol {
    /// Registers (or finds) this protocol's preference module. Call in register_protoinfo.
    pub fn prefs(&'static self) -> Prefs {
        // SAFETY: registration phase; the protocol is registered.
        let module = unsafe { sys::prefs_register_protocol(self.get(), None) };
        Prefs { module }
    }

    /// The same, with `check` run whenever this module's preferences change. Call it before
    /// anything else registers preferences for this protocol (e.g. a port range), since the
    /// module is created with its callback by the first call.
    pub fn prefs_checked(&'static self, check: PrefCheck) -> Prefs {
        if let Ok(mut c) = CHECKS.lock() {
            c.push(check);
        }
        // SAFETY: registration phase; the protocol is registered.
        let module = unsafe { sys::prefs_register_protocol(self.get(), Some(apply_checks)) };
        Prefs { module }
    }
}

impl Prefs {
    pub fn uint(&self, name: &'static CStr, title: &'static CStr, desc: &'static CStr, pref: &'static PrefUint) -> &Self {
        // SAFETY: all strings and the storage are 'static, as Wireshark keeps the pointers.
        unsafe {
            sys::prefs_register_uint_preference(self.module, name.as_ptr(), title.as_ptr(), desc.as_ptr(), 10, pref.0.as_ptr() as *mut c_uint)
        };
        self
    }
    pub fn bool(&self, name: &'static CStr, title: &'static CStr, desc: &'static CStr, pref: &'static PrefBool) -> &Self {
        // SAFETY: as above; the storage type matches the version's binding.
        unsafe { sys::prefs_register_bool_preference(self.module, name.as_ptr(), title.as_ptr(), desc.as_ptr(), pref.0.get()) };
        self
    }
    pub fn range(&self, name: &'static CStr, title: &'static CStr, desc: &'static CStr, pref: &'static PrefRange, max: u32) -> &Self {
        // SAFETY: the range is allocated in epan scope by Wireshark and owned by it afterwards.
        unsafe {
            let slot = pref.range.as_ptr();
            sys::range_convert_str(sys::wmem_epan_scope(), slot, pref.default.as_ptr(), max);
            sys::prefs_register_range_preference(self.module, name.as_ptr(), title.as_ptr(), desc.as_ptr(), slot, max);
        }
        self
    }
}
