//! Declarative registration: protocols, fields, subtrees and expert infos.
//!
//! A dissector declares its fields, subtrees and expert infos once each, with [`fields!`],
//! [`subtrees!`] and [`experts!`]: every entry becomes a `static` id (a field's typed by the
//! kind of its values, [`Hf`]) and a row of a `static` table; [`Protocol::register`] turns the
//! tables into the C arrays Wireshark keeps for the life of the process. Ids are atomics
//! written once at registration, so there is no `static mut` anywhere.

use super::sys;
use std::cell::UnsafeCell;
use std::ffi::{c_int, CStr, CString};
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

/// A protocol's id (`proto_*`), -1 until registered.
pub struct ProtoId(AtomicI32);

impl ProtoId {
    pub const fn new() -> Self {
        ProtoId(AtomicI32::new(-1))
    }
    pub fn get(&self) -> c_int {
        self.0.load(Ordering::Relaxed)
    }
    pub(crate) fn set(&self, id: c_int) {
        self.0.store(id, Ordering::Relaxed)
    }
}

impl Default for ProtoId {
    fn default() -> Self {
        Self::new()
    }
}

/// A header field's id (`hf_*`) as registration fills it in, -1 until registered. Dissectors
/// hold the typed [`Hf`] instead; this is what the registration table points at.
pub struct HfId(AtomicI32);

impl HfId {
    const fn new() -> Self {
        HfId(AtomicI32::new(-1))
    }
    pub fn get(&self) -> c_int {
        self.0.load(Ordering::Relaxed)
    }
}

/// A header field whose values are of kind `K` (`u32`, `Ipv4Addr`, `str`, `[u8]`,
/// [`RelTime`] …): `Tree::add` takes only values of that kind, so a wrong value type does not
/// compile. Declared with [`fields!`](crate::epan::fields).
pub struct Hf<K: ?Sized> {
    id: HfId,
    _kind: PhantomData<fn() -> *const K>,
}

impl<K: ?Sized> Hf<K> {
    pub const fn new() -> Self {
        Hf { id: HfId::new(), _kind: PhantomData }
    }
    pub fn get(&self) -> c_int {
        self.id.get()
    }
    /// Whether a filter or the tree needs this field (cheap check before costly work).
    pub fn registered(&self) -> bool {
        self.get() >= 0
    }
}

impl<K: ?Sized> Default for Hf<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// The kind of a field's value, named by a Rust type; each maps to one Wireshark FT_ type.
pub trait FieldKind {
    const TYPE: FieldType;
}

/// Kind of a frame-number field (FT_FRAMENUM); its arrow is set with `Field::link`.
pub struct FrameNum;
/// Kind of a duration field (FT_RELATIVE_TIME); values are `packet::Time`.
pub struct RelTime;
/// Kind of a point-in-time field (FT_ABSOLUTE_TIME, shown in UTC); values are `packet::Time`.
pub struct AbsTime;

macro_rules! field_kinds {
    ($($k:ty => $t:expr),* $(,)?) => {$(
        impl FieldKind for $k {
            const TYPE: FieldType = $t;
        }
    )*};
}
field_kinds!(
    u8 => FieldType::U8,
    u16 => FieldType::U16,
    u32 => FieldType::U32,
    u64 => FieldType::U64,
    i32 => FieldType::I32,
    i64 => FieldType::I64,
    f64 => FieldType::Double,
    bool => FieldType::Bool,
    std::net::Ipv4Addr => FieldType::Ipv4,
    std::net::Ipv6Addr => FieldType::Ipv6,
    [u8] => FieldType::Bytes,
    str => FieldType::String,
    FrameNum => FieldType::FrameNum(FrameLink::None),
    RelTime => FieldType::RelTime,
    AbsTime => FieldType::AbsTime,
);

/// A subtree id (`ett_*`) for a subtree hung on an item that is already a field (a
/// protocol's root item, a field's value): [`Item::subtree`](crate::epan::Item::subtree).
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

/// A subtree with a header of its own (a group of fields: an item, a connection, a call):
/// its `ett_*` and an FT_NONE field (`hf_*`) for the header, as stock dissectors do
/// (`stun.attribute`, `tcp.analysis`), so the header has an abbreviation that filters,
/// `-T json` and `-T ek` keys use instead of its changing label. Declared in
/// [`subtrees!`](crate::epan::subtrees) with a name, abbreviation and description;
/// [`Tree::add_subtree`](crate::epan::Tree::add_subtree) takes it.
pub struct Subtree {
    pub ett: EttId,
    pub(crate) hf: HfId,
    pub name: &'static CStr,
    pub abbrev: &'static CStr,
    pub blurb: &'static CStr,
}

impl Subtree {
    pub const fn new(name: &'static CStr, abbrev: &'static CStr, blurb: &'static CStr) -> Self {
        Subtree { ett: EttId::new(), hf: HfId::new(), name, abbrev, blurb }
    }
    /// The header field's id, -1 until registered.
    pub fn hf(&self) -> c_int {
        self.hf.get()
    }
}

/// One row of a protocol's subtree table: a bare subtree id or a subtree with a header field.
#[derive(Clone, Copy)]
pub enum Ett {
    Bare(&'static EttId),
    Header(&'static Subtree),
}

impl Ett {
    fn ett(self) -> &'static EttId {
        match self {
            Ett::Bare(e) => e,
            Ett::Header(s) => &s.ett,
        }
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
    /// The expert's own FT_NONE field (its abbreviation), -1 until registered.
    pub(crate) fn hf(&self) -> c_int {
        // SAFETY: as `registered`.
        unsafe { (*self.0.get()).hf }
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

/// The type of a field's value; each maps to one Wireshark FT_ type (see [`FieldKind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    U8,
    U16,
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
}

impl FieldType {
    fn ftenum(self) -> sys::ftenum {
        match self {
            FieldType::U8 => sys::FT_UINT8,
            FieldType::U16 => sys::FT_UINT16,
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
        }
    }
    fn is_integer(self) -> bool {
        matches!(
            self,
            FieldType::U8
                | FieldType::U16
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

/// A field's value names: a static table, or one built (once) at registration.
#[derive(Clone, Copy)]
pub enum Vals {
    Static(&'static [(u32, &'static CStr)]),
    Built(fn() -> &'static [(u32, &'static CStr)]),
}

/// The unit a number is counted in, shown after the value the way stock dissectors show
/// theirs: Wireshark's own unit strings (`units_milliseconds` … of epan/unit_strings.h,
/// exported by libwireshark in 4.0, 4.4 and 4.6 alike) with `BASE_UNIT_STRING`. Durations
/// kept as `RelTime` need none (Wireshark shows them in seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// "ms" (`units_milliseconds`).
    Milliseconds,
    /// "min" (`units_minutes`).
    Minutes,
    /// " byte" / " bytes" (`units_byte_bytes`).
    Bytes,
    /// " word" / " words" (`units_word_words`).
    Words,
}

impl Unit {
    /// Wireshark's unit string for this unit.
    fn strings(self) -> *const sys::unit_name_string {
        // Only the addresses of libwireshark's exported, immutable unit strings are taken
        // (no read): they live as long as the library.
        match self {
            Unit::Milliseconds => ptr::addr_of!(sys::units_milliseconds),
            Unit::Minutes => ptr::addr_of!(sys::units_minutes),
            Unit::Bytes => ptr::addr_of!(sys::units_byte_bytes),
            Unit::Words => ptr::addr_of!(sys::units_word_words),
        }
    }
}

/// One header field: its id, names, type, display, value names and bitmask. Built by
/// [`fields!`](crate::epan::fields), which also declares the typed handle.
#[derive(Clone, Copy)]
pub struct Field {
    pub id: &'static HfId,
    pub name: &'static CStr,
    pub abbrev: &'static CStr,
    pub ty: FieldType,
    pub base: Base,
    pub vals: Option<Vals>,
    pub bitmask: u64,
    pub blurb: Option<&'static CStr>,
    pub unit: Option<Unit>,
}

impl Field {
    /// A field of `hf`'s kind, shown in decimal (integers), without value names or blurb.
    pub const fn new<K: FieldKind + ?Sized>(hf: &'static Hf<K>, name: &'static CStr, abbrev: &'static CStr) -> Self {
        Field { id: &hf.id, name, abbrev, ty: K::TYPE, base: Base::Dec, vals: None, bitmask: 0, blurb: None, unit: None }
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
    /// Names for integer values (Wireshark's value_string), e.g. a core enum's `VALS`.
    pub const fn vals(mut self, vals: &'static [(u32, &'static CStr)]) -> Self {
        if self.unit.is_some() {
            panic!("vals() and unit() on one field (Wireshark takes one or the other)");
        }
        self.vals = Some(Vals::Static(vals));
        self
    }
    /// Value names built from other tables when the protocol registers.
    pub const fn vals_fn(mut self, build: fn() -> &'static [(u32, &'static CStr)]) -> Self {
        if self.unit.is_some() {
            panic!("vals_fn() and unit() on one field (Wireshark takes one or the other)");
        }
        self.vals = Some(Vals::Built(build));
        self
    }
    /// The unit the number counts (shown after it, as stock does: "12 bytes", "35ms"). Only
    /// on integer and floating-point fields without value names; anything else stops the
    /// build (the tables are evaluated when compiling).
    pub const fn unit(mut self, unit: Unit) -> Self {
        match self.ty {
            FieldType::U8 | FieldType::U16 | FieldType::U32 | FieldType::U64 | FieldType::I32 | FieldType::I64 | FieldType::Double => {}
            _ => panic!("unit() on a field that is not a number"),
        }
        if self.vals.is_some() {
            panic!("vals() and unit() on one field (Wireshark takes one or the other)");
        }
        self.unit = Some(unit);
        self
    }
    /// The bits of the value this field shows (Wireshark's bitmask).
    pub const fn mask(mut self, bitmask: u64) -> Self {
        self.bitmask = bitmask;
        self
    }
    /// Which way a frame-number field points (Wireshark draws request/response arrows). On
    /// a field of another kind it stops the build (the tables are evaluated when compiling).
    pub const fn link(mut self, link: FrameLink) -> Self {
        match self.ty {
            FieldType::FrameNum(_) => self.ty = FieldType::FrameNum(link),
            _ => panic!("link() on a field that is not a frame number"),
        }
        self
    }
    /// The description shown in the status bar and `tshark -G fields`.
    pub const fn blurb(mut self, blurb: &'static CStr) -> Self {
        self.blurb = Some(blurb);
        self
    }
}

/// Declares a protocol's header fields once: each entry gives the typed handle (a `static`
/// [`Hf`] of the value's Rust kind), its name, abbreviation and the `Field` builder calls
/// (`hex`, `vals(..)`, `unit(..)`, `mask(..)`, `link(..)`, `blurb(..)`), in registration order; `$table`
/// becomes the `&[Field]` that `Protocol::register` takes. A visibility before `$table`
/// applies to the table and every handle.
///
/// ```ignore
/// fields! {
///     FIELDS;
///     HF_TYPE: u32 = c"Type", c"snatmap.type", vals(&TYPES), blurb(c"1 = request, 2 = response");
///     HF_RESPONSE_IN: FrameNum = c"Response in", c"snatmap.response_in", link(FrameLink::Response);
/// }
/// ```
macro_rules! fields {
    ($vis:vis $table:ident; $( $(#[$attr:meta])* $name:ident : $kind:ty = $label:literal, $abbrev:literal $(, $opt:ident $( ( $($arg:expr),* ) )? )* ; )*) => {
        $( $(#[$attr])* $vis static $name: $crate::epan::Hf<$kind> = $crate::epan::Hf::new(); )*
        $vis static $table: &[$crate::epan::Field] = &[ $( $crate::epan::Field::new(&$name, $label, $abbrev) $( .$opt($($($arg),*)?) )* ),* ];
    };
}
pub(crate) use fields;

/// Declares a protocol's subtrees once: the `static` ids and the `$table` of them (a
/// visibility before `$table` applies to all). An entry with a name, abbreviation and
/// description is a [`Subtree`] (a header field of its own, for `Tree::add_subtree`); a bare
/// name an [`EttId`] (for `Item::subtree` on an item that is already a field).
///
/// ```ignore
/// subtrees! {
///     ETTS;
///     ETT;
///     ETT_ITEM = c"Item", c"apns.item", c"One item of a command: id, length and value";
/// }
/// ```
macro_rules! subtrees {
    (@one $vis:vis $name:ident) => {
        $vis static $name: $crate::epan::EttId = $crate::epan::EttId::new();
    };
    (@one $vis:vis $name:ident $label:literal $abbrev:literal $blurb:literal) => {
        $vis static $name: $crate::epan::Subtree = $crate::epan::Subtree::new($label, $abbrev, $blurb);
    };
    (@row $name:ident) => { $crate::epan::Ett::Bare(&$name) };
    (@row $name:ident $label:literal $abbrev:literal $blurb:literal) => { $crate::epan::Ett::Header(&$name) };
    ($vis:vis $table:ident; $( $name:ident $( = $label:literal, $abbrev:literal, $blurb:literal )? ; )*) => {
        $( $crate::epan::subtrees!(@one $vis $name $($label $abbrev $blurb)?); )*
        $vis static $table: &[$crate::epan::Ett] = &[ $( $crate::epan::subtrees!(@row $name $($label $abbrev $blurb)?) ),* ];
    };
}
pub(crate) use subtrees;

/// Declares a protocol's expert infos once: each entry gives the `static` id, abbreviation,
/// group, severity and summary, in registration order; `$table` becomes the `&[Expert]` that
/// `Protocol::register` takes (a visibility before `$table` applies to all). An entry may name the core anomaly it reports (`[pattern]`
/// before `=`); `fn $lookup` then maps such an anomaly to its expert info, so the anomaly →
/// expert pairing is written once, here.
///
/// ```ignore
/// experts! {
///     EXPERTS, fn anomaly_expert(AnomalyKind);
///     EI_TRUNCATED [AnomalyKind::Truncated { .. }] = c"apns.truncated", Malformed, Error, c"Message truncated";
///     EI_PACKED = c"apns.packed", Undecoded, Note, c"Packed encoding, not decoded";
/// }
/// ```
macro_rules! experts {
    (@decl $vis:vis $table:ident; $( $name:ident = $abbrev:literal, $group:ident, $severity:ident, $summary:literal ; )*) => {
        $( $vis static $name: $crate::epan::ExpertId = $crate::epan::ExpertId::new(); )*
        $vis static $table: &[$crate::epan::Expert] = &[ $(
            $crate::epan::Expert::new(&$name, $abbrev, $crate::epan::Group::$group, $crate::epan::Severity::$severity, $summary)
        ),* ];
    };
    ($vis:vis $table:ident, fn $lookup:ident($key:ty); $( $name:ident $([$pat:pat])? = $abbrev:literal, $group:ident, $severity:ident, $summary:literal ; )*) => {
        $crate::epan::experts!(@decl $vis $table; $( $name = $abbrev, $group, $severity, $summary; )*);
        /// The expert info that reports this anomaly, if it has one of its own.
        #[allow(unreachable_patterns)]
        $vis fn $lookup(key: &$key) -> Option<&'static $crate::epan::ExpertId> {
            match key {
                $( $( $pat => Some(&$name), )? )*
                _ => None,
            }
        }
    };
    ($vis:vis $table:ident; $( $name:ident = $abbrev:literal, $group:ident, $severity:ident, $summary:literal ; )*) => {
        $crate::epan::experts!(@decl $vis $table; $( $name = $abbrev, $group, $severity, $summary; )*);
    };
}
pub(crate) use experts;

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
    pub fn register(&'static self, fields: &'static [Field], etts: &'static [Ett], experts: &'static [Expert]) {
        // SAFETY: registration runs once, single-threaded, from plugin_register's
        // register_protoinfo callback; every pointer handed over is leaked and lives forever,
        // as Wireshark requires.
        unsafe {
            let proto = sys::proto_register_protocol(self.name.as_ptr(), self.short_name.as_ptr(), self.filter_name.as_ptr());
            self.id.0.store(proto, Ordering::Relaxed);

            let hf: Vec<sys::hf_register_info> =
                fields.iter().map(hf_info).chain(etts.iter().filter_map(|e| match e {
                    Ett::Header(s) => Some(subtree_hf_info(s)),
                    Ett::Bare(_) => None,
                })).collect();
            let hf: &'static mut [sys::hf_register_info] = Box::leak(hf.into_boxed_slice());
            sys::proto_register_field_array(proto, hf.as_mut_ptr(), hf.len() as c_int);

            let ett: Vec<*mut c_int> = etts.iter().map(|e| e.ett().0.as_ptr()).collect();
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
    } as c_int
        | if f.unit.is_some() { sys::BASE_UNIT_STRING as c_int } else { 0 };
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
        (t, Some(vals)) if t.is_integer() => {
            let vals = match vals {
                Vals::Static(v) => v,
                Vals::Built(build) => build(),
            };
            value_string(vals) as *const _
        }
        (_, None) if f.unit.is_some() => f.unit.map_or(ptr::null(), |u| u.strings() as *const _),
        _ => ptr::null(),
    };
    sys::hf_register_info {
        p_id: f.id.0.as_ptr(),
        hfinfo: sys::header_field_info {
            name: f.name.as_ptr(),
            abbrev: f.abbrev.as_ptr(),
            type_: f.ty.ftenum(),
            display,
            strings,
            bitmask: f.bitmask,
            blurb: f.blurb.map_or(ptr::null(), |b| b.as_ptr()),
            id: -1,
            parent: 0,
            ref_type: sys::HF_REF_TYPE_NONE,
            same_name_prev_id: -1,
            same_name_next: ptr::null_mut(),
        },
    }
}

/// The FT_NONE header field of a subtree.
fn subtree_hf_info(s: &'static Subtree) -> sys::hf_register_info {
    sys::hf_register_info {
        p_id: s.hf.0.as_ptr(),
        hfinfo: sys::header_field_info {
            name: s.name.as_ptr(),
            abbrev: s.abbrev.as_ptr(),
            type_: sys::FT_NONE,
            display: sys::BASE_NONE as c_int,
            strings: ptr::null(),
            bitmask: 0,
            blurb: s.blurb.as_ptr(),
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
