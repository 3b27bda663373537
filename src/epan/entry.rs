//! The `extern "C"` entry points Wireshark calls, generic over the Rust dissector behind them.
//!
//! Each entry builds a [`Packet`], runs the dissector inside `catch_unwind`, and turns a
//! panic into the protocol's `<proto>.internal_error` expert item. A quiet panic hook keeps
//! panics raised inside an entry off stderr (their message goes into the expert item).

use super::packet::Packet;
use super::registry::Protocol;
use super::sys;
use super::version::HeurRet;
use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_uint, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// A dissector called for a port, a name or a table entry: returns the number of bytes it
/// took, 0 for "not mine".
pub trait Dissector: 'static {
    fn protocol() -> &'static Protocol;
    fn dissect(pkt: &mut Packet<'_>) -> usize;
}

/// A heuristic dissector: returns true when the packet was recognised and dissected. It must
/// add nothing to the tree or columns when it returns false.
pub trait Heuristic: 'static {
    fn protocol() -> &'static Protocol;
    fn dissect(pkt: &mut Packet<'_>) -> bool;
}

/// A TCP protocol framed with `tcp_dissect_pdus`: `pdu_len` from the first bytes, then one
/// whole PDU at a time.
pub trait TcpPdus: 'static {
    fn protocol() -> &'static Protocol;
    /// Bytes needed before `pdu_len` can decide (Wireshark's `fixed_len`).
    const FIXED_LEN: usize;
    /// The whole PDU's length from the bytes at the start of `head` (at least FIXED_LEN of
    /// them); 0 when no sane length can be told (Wireshark then takes the rest of the segment).
    fn pdu_len(pkt: &Packet<'_>, head: &[u8]) -> usize;
    fn dissect_pdu(pkt: &mut Packet<'_>) -> usize;
}

thread_local! {
    static IN_ENTRY: Cell<u32> = const { Cell::new(0) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs the panic hook that keeps panics inside entry points quiet. Idempotent.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_ENTRY.with(|d| d.get()) > 0 {
                LAST_PANIC.with(|l| *l.borrow_mut() = Some(info.to_string().replace('\n', " ")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f` on the packet with panics caught; on a panic, reports it and returns `on_panic`.
///
/// # Safety
/// The pointers are those Wireshark passed to the entry point.
unsafe fn guarded<R>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
    proto: &'static Protocol,
    on_panic: impl FnOnce(&Packet<'_>) -> R,
    f: impl FnOnce(&mut Packet<'_>) -> R,
) -> R {
    let mut pkt = Packet::from_raw(tvb, pinfo, tree, data);
    IN_ENTRY.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut pkt)));
    IN_ENTRY.with(|d| d.set(d.get() - 1));
    match result {
        Ok(r) => r,
        Err(payload) => {
            report_panic(&pkt, proto, payload);
            on_panic(&pkt)
        }
    }
}

/// Runs `f` on an entry's packet with panics caught, reporting one as `proto`'s internal
/// error: for an entry that calls several protocols' code (the TCP hook), so that one's
/// panic neither stops the others nor is blamed on them. Only inside an entry (whose guard
/// already keeps the panic hook quiet).
pub(crate) fn run_guarded(pkt: &mut Packet<'_>, proto: &'static Protocol, f: impl FnOnce(&mut Packet<'_>)) {
    debug_assert!(IN_ENTRY.with(|d| d.get()) > 0, "run_guarded outside an entry");
    let result = catch_unwind(AssertUnwindSafe(|| f(pkt)));
    if let Err(payload) = result {
        report_panic(pkt, proto, payload);
    }
}

/// A caught panic as `proto`'s internal-error expert item: the hook's recorded message, or
/// the payload's text.
fn report_panic(pkt: &Packet<'_>, proto: &'static Protocol, payload: Box<dyn std::any::Any + Send>) {
    let msg = LAST_PANIC.with(|l| l.borrow_mut().take()).unwrap_or_else(|| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    });
    // Reporting must not panic again; if it does, give up quietly.
    let _ = catch_unwind(AssertUnwindSafe(|| pkt.report_internal_error(proto, &msg)));
}

/// The C entry of a [`Dissector`] (a `dissector_t`).
pub(crate) unsafe extern "C" fn dissector<D: Dissector>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
) -> c_int {
    guarded(tvb, pinfo, tree, data, D::protocol(), |p| p.bytes().len() as c_int, |p| D::dissect(p) as c_int)
}

/// The C entry of a [`Heuristic`] (a `heur_dissector_t`; its return type follows the version).
pub(crate) unsafe extern "C" fn heuristic<H: Heuristic>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
) -> HeurRet {
    // After a panic the tree may already hold items, so the packet is claimed (with the
    // internal-error item) rather than handed on half-decorated.
    let matched = guarded(tvb, pinfo, tree, data, H::protocol(), |_| true, |p| H::dissect(p));
    matched as HeurRet
}

/// The C entry of a [`TcpPdus`] protocol: hands the segment to `tcp_dissect_pdus`.
pub(crate) unsafe extern "C" fn tcp_pdus<T: TcpPdus>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
) -> c_int {
    sys::appleshark_tcp_dissect_pdus(tvb, pinfo, tree, 1, T::FIXED_LEN as c_uint, Some(pdu_len::<T>), Some(dissector_pdu::<T>), data)
}

impl Packet<'_> {
    /// Runs TCP PDU protocol `T` on this segment directly, as its handle would (for a heuristic
    /// of the same protocol: calling the handle would put the protocol in the frame's layers a
    /// second time, and a later pass, which reaches the handle through the conversation, would
    /// read the frame differently).
    pub fn run_tcp_pdus<T: TcpPdus>(&mut self) -> usize {
        // SAFETY: the pointers are this entry's own, live for the call; the shim catches what
        // tcp_dissect_pdus throws.
        let r = unsafe { tcp_pdus::<T>(self.tvb, self.pinfo, self.tree, self.data_arg) };
        r.max(0) as usize
    }
}

unsafe extern "C" fn pdu_len<T: TcpPdus>(pinfo: *mut sys::packet_info, tvb: *mut sys::tvbuff_t, offset: c_int, data: *mut c_void) -> c_uint {
    guarded(tvb, pinfo, std::ptr::null_mut(), data, T::protocol(), |_| 0, |p| {
        let head = p.bytes().get(offset.max(0) as usize..).unwrap_or(&[]);
        // Saturate: a length past 32 bits must not wrap to a small one.
        c_uint::try_from(T::pdu_len(p, head)).unwrap_or(c_uint::MAX)
    })
}

unsafe extern "C" fn dissector_pdu<T: TcpPdus>(
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    tree: *mut sys::proto_tree,
    data: *mut c_void,
) -> c_int {
    guarded(tvb, pinfo, tree, data, T::protocol(), |p| p.bytes().len() as c_int, |p| T::dissect_pdu(p) as c_int)
}
