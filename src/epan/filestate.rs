//! Rust state that lives as long as the capture file (Wireshark's file scope), one value per
//! type: for trackers that span conversations (e.g. calls whose signalling and media use
//! different port pairs).
//!
//! The value is created with `T::default()` on first use and dropped by a wmem callback when
//! Wireshark frees the file scope (file closed, or everything re-dissected). Change it only on
//! the first pass (`!pkt.visited()`).

use super::packet::Packet;
use super::sys;
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::ffi::c_void;

type Slot = Box<dyn Any>;

thread_local! {
    // A handful of types: a linear scan beats hashing the TypeId on every packet.
    static SLOTS: RefCell<Vec<(TypeId, *mut Slot)>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn drop_slot(p: *mut c_void) {
    let _ = SLOTS.try_with(|s| s.borrow_mut().retain(|(_, v)| *v != p as *mut Slot));
    // SAFETY: `p` came from Box::into_raw(Box<Slot>) below and is dropped exactly once, here.
    drop(Box::from_raw(p as *mut Slot));
}

impl<'p> Packet<'p> {
    /// This capture file's value of `T`, created on first use. The reference lives for this
    /// call; the value until the file scope is freed.
    pub fn file_state<T: Default + 'static>(&self) -> &'p RefCell<T> {
        let key = TypeId::of::<RefCell<T>>();
        let p = SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(&(_, p)) = s.iter().find(|(k, _)| *k == key) {
                return p;
            }
            let slot: Box<Slot> = Box::new(Box::new(RefCell::new(T::default())));
            let p = Box::into_raw(slot);
            // SAFETY: registers the drop of `p` with the file scope, which is live while a
            // packet is dissected.
            unsafe { sys::appleshark_on_file_scope_free(p as *mut c_void, Some(drop_slot)) };
            s.push((key, p));
            p
        });
        // SAFETY: `p` stays valid until the file scope is freed, which does not happen during
        // a dissector call.
        unsafe { (*p).downcast_ref::<RefCell<T>>().expect("file state of another type") }
    }
}

/// A typed handle in a `static` for file-scoped state: `STATE.with(pkt, |s| …)`. The value is
/// the one [`Packet::file_state`] keeps for `T` (one value per type and capture file).
pub struct FileState<T: 'static>(std::marker::PhantomData<fn() -> T>);

impl<T: Default + 'static> FileState<T> {
    pub const fn new() -> Self {
        FileState(std::marker::PhantomData)
    }

    /// Runs `f` on this file's state, creating it with `T::default()` on first use.
    pub fn with<R>(&'static self, pkt: &Packet<'_>, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut pkt.file_state::<T>().borrow_mut())
    }
}

impl<T: Default + 'static> Default for FileState<T> {
    fn default() -> Self {
        Self::new()
    }
}
