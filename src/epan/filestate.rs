//! Per-capture-file Rust state: one value of `T` per open capture file.
//!
//! A [`FileState`] lives in a `static`. Its value is created on first use during
//! dissection and dropped when Wireshark frees the file scope (file closed, or everything
//! re-dissected after a preference change), exactly like `wmem_file_scope` memory: a
//! wmem callback on the file scope clears it. Access needs a [`Packet`], which proves that
//! a file is being dissected (the file scope exists only then).
//!
//! Change the state only when `!pkt.visited()` (first pass), as Wireshark requires.

use super::packet::Packet;
use super::sys;
use std::ffi::c_void;
use std::sync::Mutex;

/// State of type `T` kept for the capture file being dissected.
pub struct FileState<T: 'static> {
    slot: Mutex<Option<T>>,
}

impl<T: Default + Send + 'static> FileState<T> {
    pub const fn new() -> Self {
        FileState { slot: Mutex::new(None) }
    }

    /// Runs `f` on this file's state, creating it with `T::default()` on first use.
    pub fn with<R>(&'static self, _pkt: &Packet<'_>, f: impl FnOnce(&mut T) -> R) -> R {
        // A panic inside `f` (caught at the entry point) poisons the lock; the state is still
        // whole enough to use, so take it anyway.
        let mut g = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none() {
            *g = Some(T::default());
            // SAFETY: we are inside a dissection (a Packet exists), so the file scope is live;
            // `self` is 'static, so the pointer stays valid for the callback, which runs once.
            unsafe { sys::appleshark_on_file_scope_free(self as *const Self as *mut c_void, Some(clear::<T>)) };
        }
        f(g.get_or_insert_with(T::default))
    }
}

impl<T: Default + Send + 'static> Default for FileState<T> {
    fn default() -> Self {
        Self::new()
    }
}

unsafe extern "C" fn clear<T: 'static>(p: *mut c_void) {
    // SAFETY: `p` is the &'static FileState<T> registered in `with`.
    let s = &*(p as *const FileState<T>);
    let old = s.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    drop(old);
}
