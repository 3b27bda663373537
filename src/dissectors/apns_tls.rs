//! Courier connections without TLS keys (`apns.tls.*`): glue from
//! `core::apns::courier_tls` to Wireshark.
//!
//! A post-dissector: it reads each frame's TCP segment from the frame's own bytes
//! (`core::frame`) and feeds it, once, in capture order, to one `SniTracker` per capture
//! file. From the frame whose ClientHello named a courier host (`courier.push.apple.com`,
//! `N-courier.push.apple.com`, sandbox names) on, every frame of that TCP connection gets an
//! "Apple Push Notification service courier over TLS" item with the server name (so `apns.tls`
//! selects the whole connection), and frames carrying TLS data get "Apple Push: " in front of their Info.
//! Frames the APNs dissector itself decoded (a TLS key log was given) are left alone.
//! Switched off like any protocol: `--disable-protocol apns.tls`, or Enabled Protocols.
//!
//! Captures of phones usually start after the courier connection was opened, with no
//! ClientHello to read. Then a frame that Wireshark's TLS dissector read (a TLS record)
//! between an Apple address (`core::apple`) and the courier port 5223 is labelled too, by
//! "address and port" (`apns.tls.recognised_by`), weaker evidence than the server name;
//! preference `apns.tls.by_address` switches that off.

use crate::core::apns::courier_tls::{Courier, Observed, SniTracker};
use crate::core::{frame, tls_hello};
use crate::core::span::Span;
use crate::epan::filestate::FileState;
use crate::epan::post::{register_tcp_postdissector, TcpPostDissector};
use crate::epan::*;
use std::sync::atomic::{AtomicBool, Ordering};

pub static PROTO: Protocol = Protocol::new(c"Apple Push Notification service courier over TLS", c"APNs-TLS", c"apns.tls");

crate::value_enum! {
    /// `apns.tls.recognised_by`: how the connection was told to be a courier's.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RecognisedBy: u8 {
        ServerName = 1 => "Server name (TLS ClientHello)";
        Address = 2 => "Apple address and courier port 5223, TLS record (no ClientHello in the capture)";
    }
}

fields! {
    pub(crate) FIELDS;
    HF_HOW: u8 = c"Recognised by", c"apns.tls.recognised_by", vals(RecognisedBy::VALS),
        blurb(c"How this TLS connection was recognised as Apple Push: by the server name its ClientHello named (strong), or, for a connection whose ClientHello is not in the capture, by an Apple address on the courier port (weaker)");
    HF_SNI: str = c"Courier server name", c"apns.tls.sni",
        blurb(c"The courier host the client named in its TLS ClientHello (server name extension), shown on every frame of the connection");
    HF_ENV: str = c"Courier environment", c"apns.tls.environment",
        blurb(c"Computed from the server name: production (push.apple.com) or sandbox (sandbox.push.apple.com)");
    HF_HELLO: FrameNum = c"ClientHello in", c"apns.tls.client_hello_in",
        blurb(c"Computed: the frame that completed the ClientHello naming the courier (a link within the connection, not a request)");
}

subtrees! { pub(crate) ETTS; ETT; }

experts! {
    EXPERTS;
    EI_STATE_CAP = c"apns.tls.state_cap", Protocol, Warn, c"Too many courier connections (or ClientHellos being reassembled) in this capture; later ones are not labelled";
}

/// The file's tracker.
struct State(SniTracker);

impl Default for State {
    fn default() -> Self {
        // A new capture file (or a re-dissection): no courier connection seen yet.
        TRACKING.store(false, Ordering::Relaxed);
        State(SniTracker::default())
    }
}

static STATE: FileState<State> = FileState::new();

/// Whether this file's tracker has been anything but idle. Until then only a segment that
/// starts a ClientHello can change it or be labelled by it, so the others skip the file
/// state. Cleared when a file's state is created.
static TRACKING: AtomicBool = AtomicBool::new(false);

/// Preference `apns.tls.by_address` (registered with the APNs protocol's preferences: a
/// module named after this protocol's dotted filter name could not be addressed by `-o`).
pub static PREF_BY_ADDRESS: PrefBool = PrefBool::new(true);

pub fn register() {
    PROTO.register(FIELDS, ETTS, EXPERTS);
}

/// A frame of a courier connection whose ClientHello the capture does not have: TLS (as
/// Wireshark's TLS dissector read it) between an Apple address and the courier port.
fn courier_by_address(pkt: &Packet<'_>, seg: &frame::TcpView<'_>) -> bool {
    let port = crate::core::apns::tls::COURIER_PORT;
    let apple = crate::core::apple::is_apple_address;
    ((seg.dport == port && apple(seg.dst)) || (seg.sport == port && apple(seg.src))) && PREF_BY_ADDRESS.get() && pkt.has_layer(c"tls")
}

pub fn handoff() {
    register_tcp_postdissector::<Post>();
}

/// The post-dissector.
pub struct Post;
impl TcpPostDissector for Post {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn wants(seg: &frame::TcpView<'_>) -> bool {
        // `segment` does nothing unless a courier is tracked, this is a ClientHello, or a
        // port is the courier's (`courier_by_address`).
        let port = crate::core::apns::tls::COURIER_PORT;
        TRACKING.load(Ordering::Relaxed) || seg.dport == port || seg.sport == port || tls_hello::client_hello_record_len(seg.payload).is_some()
    }
    fn segment(pkt: &mut Packet<'_>, seg: frame::TcpView<'_>) {
        let (src, dst) = ((seg.src, seg.sport), (seg.dst, seg.dport));
        let frame_no = pkt.frame();
        let visited = pkt.visited();
        let mut cap = false;
        let hello = || tls_hello::client_hello_record_len(seg.payload).is_some();
        let found: Option<Courier> = if !TRACKING.load(Ordering::Relaxed) && !hello() {
            None
        } else {
            STATE.with(pkt, |State(t)| {
                if !visited {
                    if t.is_idle() && !hello() {
                        return None;
                    }
                    cap = t.observe(frame_no, src, dst, seg.seq, seg.payload, seg.payload_len) == Observed::CapReached;
                    if !t.is_idle() {
                        TRACKING.store(true, Ordering::Relaxed);
                    }
                }
                t.lookup(frame_no, src, dst).cloned()
            })
        };
        let tree = pkt.tree();
        if cap {
            let span = Span::new(seg.tcp_offset, seg.header_len + seg.payload.len());
            pkt.expert(&EI_STATE_CAP, span, None);
        }
        let by_address = found.is_none() && courier_by_address(pkt, &seg);
        if (found.is_none() && !by_address) || pkt.has_layer(c"apns") {
            return;
        }
        if !seg.payload.is_empty() {
            pkt.prepend_info("Apple Push: ");
        }
        if !tree.is_null() {
            let span = Span::new(seg.tcp_offset + seg.header_len, seg.payload.len());
            let item = tree.add_protocol(&PROTO, span);
            let sub = item.subtree(&ETT);
            match &found {
                Some(c) => {
                    item.append_text(format_args!(", {}", c.sni));
                    sub.add_generated(&HF_HOW, RecognisedBy::ServerName.code());
                    sub.add_generated(&HF_SNI, c.sni.as_str());
                    sub.add_generated(&HF_ENV, c.env.name());
                    sub.add_generated(&HF_HELLO, c.hello_frame);
                }
                None => {
                    item.append_text(", by address and port");
                    sub.add_generated(&HF_HOW, RecognisedBy::Address.code());
                }
            }
        }
    }
}
