//! Per-conversation Rust state with Wireshark's lifetime rules.
//!
//! The state is a `RefCell<T>` boxed behind the conversation's proto data. It is created on
//! first use, lives in file scope and is dropped by a wmem callback when Wireshark frees the
//! file scope (file closed, or everything re-dissected after a preference change). Types are
//! checked on every access (`dyn Any`), so two users of one protocol id cannot confuse them.

use super::packet::Packet;
use super::registry::Protocol;
use super::sys;
use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_void;

type Slot = Box<dyn Any>;

unsafe extern "C" fn drop_slot(p: *mut c_void) {
    // SAFETY: `p` came from Box::into_raw(Box<Slot>) below and is dropped exactly once, here.
    drop(Box::from_raw(p as *mut Slot));
}

impl<'p> Packet<'p> {
    /// This packet's conversation's state for `proto` if it has any yet (creates nothing:
    /// for a heuristic that must keep no state for traffic that is not its protocol's).
    pub fn existing_conversation<T: 'static>(&self, proto: &Protocol) -> Option<&'p RefCell<T>> {
        assert!(proto.get() >= 0, "protocol used before registration");
        // SAFETY: pinfo is live; find_conversation_pinfo only looks up and never throws. The
        // proto data, when present, is a Box<Slot> made by `conversation` below.
        unsafe {
            let conv = sys::find_conversation_pinfo(self.pinfo, 0);
            if conv.is_null() {
                return None;
            }
            let p = sys::conversation_get_proto_data(conv, proto.get()) as *mut Slot;
            if p.is_null() {
                return None;
            }
            (*p).downcast_ref::<RefCell<T>>()
        }
    }

    /// This packet's conversation's state for `proto`, created with `T::default()` on first
    /// use. The reference lives for this call; the state lives until the file is closed.
    /// Change it only when `!self.visited()` (first pass), as Wireshark requires.
    pub fn conversation<T: Default + 'static>(&self, proto: &Protocol) -> &'p RefCell<T> {
        assert!(proto.get() >= 0, "protocol used before registration");
        // SAFETY: pinfo is live; find_or_create_conversation never throws. The pointer stored
        // as proto data is only ever a Box<Slot> made here, freed by the file-scope callback
        // after which Wireshark no longer hands out this conversation.
        unsafe {
            let conv = sys::find_or_create_conversation(self.pinfo);
            let mut p = sys::conversation_get_proto_data(conv, proto.get()) as *mut Slot;
            if p.is_null() {
                let slot: Box<Slot> = Box::new(Box::new(RefCell::new(T::default())));
                p = Box::into_raw(slot);
                sys::conversation_add_proto_data(conv, proto.get(), p as *mut c_void);
                sys::appleshark_on_file_scope_free(p as *mut c_void, Some(drop_slot));
            }
            (*p).downcast_ref::<RefCell<T>>().expect("conversation state of another type for this protocol")
        }
    }
}
