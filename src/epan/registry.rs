//! Declarative registration: protocols, fields, subtrees and expert infos.
//!
//! A dissector declares `static` ids and one `static` table of each kind; [`Protocol::register`]
//! turns the tables into the C arrays Wireshark keeps for the life of the process. Ids are
//! atomics written once at registration, so there is no `static mut` anywhere.

use super::sys;
use std::cell::UnsafeCell;
use std::ffi::{c_int, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};

/// A protocol's id (`proto_*`), -1 until registered.
pub struct ProtoId(AtomicI32);

impl ProtoId {
    pub const fn new() -> Self {
        ProtoId(AtomicI32::new(-1))
    }
    pub fn get(&self) -> c_int {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for ProtoId {
    fn default() -> Self {
        Self::new()
    }
}

/// A header field's id (`hf_*`), -1 until registered; remembers its type so that adding a value
/// of the wrong kind is caught in Rust (a panic, reported as an expert item) instead of by
/// Wireshark's DISSECTOR_ASSERT (a longjmp through Rust frames).
pub struct HfId {
    id: AtomicI32,
    kind: AtomicU8,
}

impl HfId {
    pub const fn new() -> Self {
        HfId { id: AtomicI32::new(-1), kind: AtomicU8::new(0) }
    }
    pub fn get(&self) -> c_int {
        self.id.load(Ordering::Relaxed)
    }
    pub(crate) fn kind(&self) -> Option<FieldType> {
        FieldType::from_tag(self.kind.load(Ordering::Relaxed))
    }
    /// Whether a filter or the tree needs this field (cheap check before costly work).
    pub fn registered(&self) -> bool {
        self.get() >= 0
    }
}

impl Default for HfId {
    fn default() -> Self {
        Self::new()
    }
}

/// A subtree id (`ett_*`).
pub struct EttId(AtomicI32);

impl EttId {
    pub const fn new() -> Self {
        EttId(AtomicI32::new(-1))
    }
    pub fn get(&self) -> c_int {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for EttId {
    fn default() -> Self {
        Self::new()
    }
}

/// An expert info id (`ei_*`): Wireshark's `expert_field`, written once at registration.
pub struct ExpertId(UnsafeCell<sys::expert_field>);

// SAFETY: written only by expert_register_field_array during registration (single-threaded,
// before any dissection), read-only afterwards.
unsafe impl Sync for ExpertId {}

impl ExpertId {
    pub const fn new() -> Self {
        ExpertId(UnsafeCell::new(sys::expert_field { ei: -1, hf: -1 }))
    }
    pub(crate) fn as_ptr(&self) -> *mut sys::expert_field {
        self.0.get()
    }
    pub fn registered(&self) -> bool {
        // SAFETY: see the Sync impl; a plain read of an int written before dissection.
        unsafe { (*self.0.get()).ei >= 0 }
    }
}

impl Default for ExpertId {
    fn default() -> Self {
        Self::new()
    }
}

/// Which frame a frame-number field points to (Wireshark draws request/response arrows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameLink {
    None,
    Request,
    Response,
    Ack,
    Dup,
    RetransPrev,
    RetransNext,
}

/// The type of a field's value; each maps to one Wireshark FT_ type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    U8,
    U16,
    U24,
    U32,
    U64,
    I32,
    I64,
    Bool,
    Ipv4,
    Ipv6,
    Bytes,
    String,
    FrameNum(FrameLink),
    RelTime,
    AbsTime,
    Double,
    /// A label with no value (FT_NONE): a subtree header.
    None,
}

impl FieldType {
    fn tag(self) -> u8 {
        match self {
            FieldType::U8 => 1,
            FieldType::U16 => 2,
            FieldType::U24 => 3,
            FieldType::U32 => 4,
            FieldType::U64 => 5,
            FieldType::I32 => 6,
            FieldType::I64 => 7,
            FieldType::Bool => 8,
            FieldType::Ipv4 => 9,
            FieldType::Ipv6 => 10,
            FieldType::Bytes => 11,
            FieldType::String => 12,
            FieldType::FrameNum(_) => 13,
            FieldType::RelTime => 14,
            FieldType::AbsTime => 15,
            FieldType::Double => 16,
            FieldType::None => 17,
        }
    }
    fn from_tag(t: u8) -> Option<Self> {
        Some(match t {
            1 => FieldType::U8,
            2 => FieldType::U16,
            3 => FieldType::U24,
            4 => FieldType::U32,
            5 => FieldType::U64,
            6 => FieldType::I32,
            7 => FieldType::I64,
            8 => FieldType::Bool,
            9 => FieldType::Ipv4,
            10 => FieldType::Ipv6,
            11 => FieldType::Bytes,
            12 => FieldType::String,
            13 => FieldType::FrameNum(FrameLink::None),
            14 => FieldType::RelTime,
            15 => FieldType::AbsTime,
            16 => FieldType::Double,
            17 => FieldType::None,
            _ => return None,
        })
    }
    fn ftenum(self) -> sys::ftenum {
        match self {
            FieldType::U8 => sys::FT_UINT8,
            FieldType::U16 => sys::FT_UINT16,
            FieldType::U24 => sys::FT_UINT24,
            FieldType::U32 => sys::FT_UINT32,
            FieldType::U64 => sys::FT_UINT64,
            FieldType::I32 => sys::FT_INT32,
            FieldType::I64 => sys::FT_INT64,
            FieldType::Bool => sys::FT_BOOLEAN,
            FieldType::Ipv4 => sys::FT_IPv4,
            FieldType::Ipv6 => sys::FT_IPv6,
            FieldType::Bytes => sys::FT_BYTES,
            FieldType::String => sys::FT_STRING,
            FieldType::FrameNum(_) => sys::FT_FRAMENUM,
            FieldType::RelTime => sys::FT_RELATIVE_TIME,
            FieldType::AbsTime => sys::FT_ABSOLUTE_TIME,
            FieldType::Double => sys::FT_DOUBLE,
            FieldType::None => sys::FT_NONE,
        }
    }
    fn is_integer(self) -> bool {
        matches!(
            self,
            FieldType::U8
                | FieldType::U16
                | FieldType::U24
                | FieldType::U32
                | FieldType::U64
                | FieldType::I32
                | FieldType::I64
        )
    }
}

/// How an integer is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Dec,
    Hex,
    DecHex,
    HexDec,
}

/// One header field: its id, names, type, display and value names.
pub struct Field {
    pub id: &'static HfId,
    pub name: &'static CStr,
    pub abbrev: &'static CStr,
    pub ty: FieldType,
    pub base: Base,
    pub vals: Option<&'static [(u32, &'static CStr)]>,
    pub blurb: Option<&'static CStr>,
}

impl Field {
    pub const fn new(id: &'static HfId, name: &'static CStr, abbrev: &'static CStr, ty: FieldType) -> Self {
        Field { id, name, abbrev, ty, base: Base::Dec, vals: None, blurb: None }
    }
    /// Integers shown in hex.
    pub const fn hex(mut self) -> Self {
        self.base = Base::Hex;
        self
    }
    pub const fn dec_hex(mut self) -> Self {
        self.base = Base::DecHex;
        self
    }
    pub const fn hex_dec(mut self) -> Self {
        self.base = Base::HexDec;
        self
    }
    /// Names for integer values (Wireshark's value_string).
    pub const fn vals(mut self, vals: &'static [(u32, &'static CStr)]) -> Self {
        self.vals = Some(vals);
        self
    }
    /// The description shown in the status bar and `tshark -G fields`.
    pub const fn blurb(mut self, blurb: &'static CStr) -> Self {
        self.blurb = Some(blurb);
        self
    }
}

/// Expert info groups (what kind of thing was noticed).
#[derive(Clone, Copy, Debug)]
pub enum Group {
    Checksum,
    Sequence,
    ResponseCode,
    RequestCode,
    Undecoded,
    Reassemble,
    Malformed,
    Protocol,
    Security,
    Decryption,
    Assumption,
}

/// Expert info severities.
#[derive(Clone, Copy, Debug)]
pub enum Severity {
    Comment,
    Chat,
    Note,
    Warn,
    Error,
}

/// One expert info: `abbrev` such as `snatmap.unmatched_response`.
pub struct Expert {
    pub id: &'static ExpertId,
    pub abbrev: &'static CStr,
    pub group: Group,
    pub severity: Severity,
    pub summary: &'static CStr,
}

impl Expert {
    pub const fn new(
        id: &'static ExpertId,
        abbrev: &'static CStr,
        group: Group,
        severity: Severity,
        summary: &'static CStr,
    ) -> Self {
        Expert { id, abbrev, group, severity, summary }
    }
}

fn group_bits(g: Group) -> c_int {
    (match g {
        Group::Checksum => sys::PI_CHECKSUM,
        Group::Sequence => sys::PI_SEQUENCE,
        Group::ResponseCode => sys::PI_RESPONSE_CODE,
        Group::RequestCode => sys::PI_REQUEST_CODE,
        Group::Undecoded => sys::PI_UNDECODED,
        Group::Reassemble => sys::PI_REASSEMBLE,
        Group::Malformed => sys::PI_MALFORMED,
        Group::Protocol => sys::PI_PROTOCOL,
        Group::Security => sys::PI_SECURITY,
        Group::Decryption => sys::PI_DECRYPTION,
        Group::Assumption => sys::PI_ASSUMPTION,
    }) as c_int
}

fn severity_bits(s: Severity) -> c_int {
    (match s {
        Severity::Comment => sys::PI_COMMENT,
        Severity::Chat => sys::PI_CHAT,
        Severity::Note => sys::PI_NOTE,
        Severity::Warn => sys::PI_WARN,
        Severity::Error => sys::PI_ERROR,
    }) as c_int
}

/// A protocol: names plus the ids registration fills in. Every protocol also gets an expert
/// info `<filter>.internal_error`, which the entry points use to report a Rust panic.
pub struct Protocol {
    pub id: ProtoId,
    pub name: &'static CStr,
    pub short_name: &'static CStr,
    pub filter_name: &'static CStr,
    pub(crate) internal_error: ExpertId,
}

impl Protocol {
    pub const fn new(name: &'static CStr, short_name: &'static CStr, filter_name: &'static CStr) -> Self {
        Protocol { id: ProtoId::new(), name, short_name, filter_name, internal_error: ExpertId::new() }
    }

    pub fn get(&self) -> c_int {
        self.id.get()
    }

    /// Registers the protocol with its fields, subtrees and expert infos. Call from the
    /// plugin's `register_protoinfo` phase only.
    pub fn register(&'static self, fields: &'static [Field], etts: &'static [&'static EttId], experts: &'static [Expert]) {
        // SAFETY: registration runs once, single-threaded, from plugin_register's
        // register_protoinfo callback; every pointer handed over is leaked and lives forever,
        // as Wireshark requires.
        unsafe {
            let proto = sys::proto_register_protocol(self.name.as_ptr(), self.short_name.as_ptr(), self.filter_name.as_ptr());
            self.id.0.store(proto, Ordering::Relaxed);

            let hf: Vec<sys::hf_register_info> = fields.iter().map(hf_info).collect();
            let hf: &'static mut [sys::hf_register_info] = Box::leak(hf.into_boxed_slice());
            sys::proto_register_field_array(proto, hf.as_mut_ptr(), hf.len() as c_int);
            for f in fields {
                f.id.kind.store(f.ty.tag(), Ordering::Relaxed);
            }

            let ett: Vec<*mut c_int> = etts.iter().map(|e| e.0.as_ptr()).collect();
            let ett: &'static mut [*mut c_int] = Box::leak(ett.into_boxed_slice());
            sys::proto_register_subtree_array(ett.as_ptr() as _, ett.len() as c_int);

            let internal_abbrev = leak_cstring(format!("{}.internal_error", self.filter_name.to_string_lossy()));
            let mut ei: Vec<sys::ei_register_info> = experts.iter().map(|e| ei_info(e.id, e.abbrev, e.group, e.severity, e.summary)).collect();
            ei.push(ei_info(
                &self.internal_error,
                internal_abbrev,
                Group::Malformed,
                Severity::Error,
                c"appleshark internal error (please report with the capture)",
            ));
            let ei: &'static mut [sys::ei_register_info] = Box::leak(ei.into_boxed_slice());
            let module = sys::expert_register_protocol(proto);
            sys::expert_register_field_array(module, ei.as_mut_ptr(), ei.len() as c_int);
        }
    }
}

fn leak_cstring(s: String) -> &'static CStr {
    Box::leak(CString::new(s).expect("no NUL in names").into_boxed_c_str())
}

fn hf_info(f: &Field) -> sys::hf_register_info {
    let display = match f.ty {
        t if t.is_integer() => match f.base {
            Base::Dec => sys::BASE_DEC,
            Base::Hex => sys::BASE_HEX,
            Base::DecHex => sys::BASE_DEC_HEX,
            Base::HexDec => sys::BASE_HEX_DEC,
        },
        FieldType::AbsTime => sys::ABSOLUTE_TIME_UTC,
        _ => sys::BASE_NONE,
    } as c_int;
    let strings: *const std::ffi::c_void = match (f.ty, f.vals) {
        (FieldType::FrameNum(link), _) => {
            (match link {
                FrameLink::None => sys::FT_FRAMENUM_NONE,
                FrameLink::Request => sys::FT_FRAMENUM_REQUEST,
                FrameLink::Response => sys::FT_FRAMENUM_RESPONSE,
                FrameLink::Ack => sys::FT_FRAMENUM_ACK,
                FrameLink::Dup => sys::FT_FRAMENUM_DUP_ACK,
                FrameLink::RetransPrev => sys::FT_FRAMENUM_RETRANS_PREV,
                FrameLink::RetransNext => sys::FT_FRAMENUM_RETRANS_NEXT,
            }) as usize as *const _
        }
        (t, Some(vals)) if t.is_integer() => value_string(vals) as *const _,
        _ => ptr::null(),
    };
    sys::hf_register_info {
        p_id: f.id.id.as_ptr(),
        hfinfo: sys::header_field_info {
            name: f.name.as_ptr(),
            abbrev: f.abbrev.as_ptr(),
            type_: f.ty.ftenum(),
            display,
            strings,
            bitmask: 0,
            blurb: f.blurb.map_or(ptr::null(), |b| b.as_ptr()),
            id: -1,
            parent: 0,
            ref_type: sys::HF_REF_TYPE_NONE,
            same_name_prev_id: -1,
            same_name_next: ptr::null_mut(),
        },
    }
}

/// A NUL-terminated `value_string` array that lives forever.
fn value_string(vals: &'static [(u32, &'static CStr)]) -> *const sys::value_string {
    let mut v: Vec<sys::value_string> =
        vals.iter().map(|(value, name)| sys::value_string { value: *value, strptr: name.as_ptr() }).collect();
    v.push(sys::value_string { value: 0, strptr: ptr::null() });
    Box::leak(v.into_boxed_slice()).as_ptr()
}

fn ei_info(id: &ExpertId, abbrev: &'static CStr, group: Group, severity: Severity, summary: &'static CStr) -> sys::ei_register_info {
    sys::ei_register_info {
        ids: id.as_ptr(),
        eiinfo: sys::expert_field_info {
            name: abbrev.as_ptr(),
            group: group_bits(group),
            severity: severity_bits(severity),
            summary: summary.as_ptr(),
            id: 0,
            protocol: ptr::null(),
            orig_severity: 0,
            hf_info: sys::hf_register_info {
                p_id: ptr::null_mut(),
                hfinfo: sys::header_field_info {
                    name: ptr::null(),
                    abbrev: ptr::null(),
                    type_: sys::FT_NONE,
                    display: sys::BASE_NONE as c_int,
                    strings: ptr::null(),
                    bitmask: 0,
                    blurb: ptr::null(),
                    id: -1,
                    parent: 0,
                    ref_type: sys::HF_REF_TYPE_NONE,
                    same_name_prev_id: -1,
                    same_name_next: ptr::null_mut(),
                },
            },
        },
    }
}
