//! Taps and their listeners: Wireshark's one mechanism for statistics (`tshark -z …`, the
//! Statistics menu, Lua taps), typed on the Rust side.
//!
//! - [`Tap<T>`]: a tap registered once by name. A dissector asks [`Tap::listening`] (build a
//!   record only then) and hands a record of type `T` to [`Tap::queue`]; the record belongs to
//!   the packet's pool from then on and is dropped when the pool is freed, after the
//!   listeners have read it. Nothing is serialised: listeners get the `&T` itself.
//! - [`StatsTree<T>`]: a stats tree on a `Tap<T>` (`tshark -z <abbr>,tree`): an init function
//!   (may do nothing; Wireshark's Qt dialog calls one unconditionally, so there always is one)
//!   and a tally function turning one record into counts on named nodes ([`Nodes`]). The GUI
//!   lists it at the bottom of the Statistics menu: Wireshark's Qt GUI puts every stats tree a
//!   plugin registers there, whatever its group (4.0 `ui/qt/wireshark_main_window_slots.cpp`,
//!   `addStatsPluginsToMenu`; the same in 4.4 and 4.6), so a tree has no menu to choose.
//! - [`StatTable`]: a table with one row per key (`tshark -z <cli>[,filter]`), on its own
//!   tap of records: each listener folds the records its filter passes into an accumulator of
//!   its own, and the row that changed replaces the table's row of that index. It is listed in
//!   the GUI menu its [`Menu`] names (Statistics or Telephony).
//!
//! The C side (`wireshark-headers/shim_tap.c`) adapts Wireshark's callback types and ties
//! each record to the packet's pool.

use super::packet::{cstring, Packet, Time};
use super::sys;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, Ordering};

/// A tap carrying records of type `T` (a `static`; registered once, by name).
pub struct Tap<T: 'static> {
    name: &'static CStr,
    id: AtomicI32,
    _records: PhantomData<fn(T)>,
}

impl<T: 'static> Tap<T> {
    /// The tap `name` (what `-z` listeners and Lua taps name), not yet registered.
    pub const fn new(name: &'static CStr) -> Self {
        Tap { name, id: AtomicI32::new(-1), _records: PhantomData }
    }

    /// Registers the tap. Registration phase, once.
    pub fn register(&self) {
        // SAFETY: registration phase; the name is 'static.
        self.id.store(unsafe { sys::appleshark_tap_register(self.name.as_ptr()) }, Ordering::Relaxed);
    }

    /// True when a listener (tshark -z, a GUI dialog, a Lua tap) is attached: build records
    /// only then, so unused statistics cost nothing.
    pub fn listening(&self) -> bool {
        // SAFETY: have_tap_listener only reads the tap registry; -1 is refused by the shim.
        unsafe { sys::appleshark_tap_listening(self.id.load(Ordering::Relaxed)) != 0 }
    }

    /// Queues `record` for this packet's listeners. It lives until the packet's pool is
    /// freed (after the listeners ran); nothing happens when no one listens.
    pub fn queue(&self, pkt: &Packet<'_>, record: T) {
        if !self.listening() {
            return;
        }
        let p = Box::into_raw(Box::new(record));
        // SAFETY: live pinfo; `p` is freed once, by `drop_record::<T>`, when the packet's
        // pool is freed, which happens after the tap listeners have run.
        unsafe { sys::appleshark_tap_queue(self.id.load(Ordering::Relaxed), pkt.pinfo, p as *mut c_void, Some(drop_record::<T>)) }
    }
}

unsafe extern "C" fn drop_record<T>(p: *mut c_void) {
    // SAFETY: `p` came from Box::into_raw(Box<T>) in Tap::<T>::queue; freed once, here.
    // Dropping must not unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(p as *mut T))));
}

impl Packet<'_> {
    /// The frame's time relative to the capture's first frame (Wireshark's `rel_ts`).
    pub fn relative_time(&self) -> Time {
        // SAFETY: pinfo is valid for the call.
        let t = unsafe { (*self.pinfo).rel_ts };
        Time { secs: t.secs as i64, nanos: t.nsecs as i32 }
    }
}

// ---- stats trees ----

/// A node of a stats tree; [`Nodes::ROOT`] is the tree itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeId(c_int);

/// The stats tree being filled (valid during one init or tally call). Every operation finds
/// the node `name` under `parent`, creating it when missing (with a table for children of its
/// own when `children`), and returns it.
pub struct Nodes<'a> {
    st: *mut sys::_stats_tree,
    _life: PhantomData<&'a ()>,
}

impl Nodes<'_> {
    pub const ROOT: NodeId = NodeId(0);

    fn op(&self, op: u32, name: &str, parent: NodeId, children: bool, value: i32) -> NodeId {
        let c = cstring(name);
        // SAFETY: st is live during the callback; the name is copied by the stats tree.
        NodeId(unsafe { sys::appleshark_st_node(self.st, op as c_int, c.as_ptr(), parent.0, children as c_int, value) })
    }
    /// Adds `n` to the node's count (0: only finds or creates it).
    pub fn add(&self, name: &str, parent: NodeId, children: bool, n: i32) -> NodeId {
        self.op(sys::APPLESHARK_ST_ADD, name, parent, children, n)
    }
    /// Counts one.
    pub fn tick(&self, name: &str, parent: NodeId, children: bool) -> NodeId {
        self.add(name, parent, children, 1)
    }
    /// Sets the node's count to `value`.
    pub fn set(&self, name: &str, parent: NodeId, children: bool, value: i32) -> NodeId {
        self.op(sys::APPLESHARK_ST_SET, name, parent, children, value)
    }
    /// Counts one and adds `value` to the node's average/min/max (the tree's Average, Min Val
    /// and Max Val columns; `value` in the unit the node's name gives).
    pub fn avg(&self, name: &str, parent: NodeId, children: bool, value: i32) -> NodeId {
        self.op(sys::APPLESHARK_ST_AVG, name, parent, children, value)
    }
    /// True when `parent` (a node created with `children`) has a child `name`; creates nothing.
    pub fn has_child(&self, name: &str, parent: NodeId) -> bool {
        let c = cstring(name);
        // SAFETY: st is live during the callback; the name is only read.
        unsafe { sys::appleshark_st_children(self.st, parent.0, c.as_ptr()) == 1 }
    }
    /// How many children `parent` (a node created with `children`) has (0 for any other node).
    pub fn child_count(&self, parent: NodeId) -> usize {
        // SAFETY: st is live during the callback; NULL asks for the count.
        unsafe { sys::appleshark_st_children(self.st, parent.0, std::ptr::null()) }.max(0) as usize
    }
}

/// A stats tree on a [`Tap<T>`] (a `static`): `tshark -z <abbr>,tree` and the bottom of the GUI's
/// Statistics menu (see the module's notes).
pub struct StatsTree<T: 'static> {
    tap: &'static Tap<T>,
    abbr: &'static CStr,
    title: &'static CStr,
    init: fn(&Nodes<'_>),
    tally: fn(&Nodes<'_>, &T),
}

impl<T: 'static> StatsTree<T> {
    /// The tree `abbr` titled `title` on `tap`: `init` sets up a fresh tree (it may do
    /// nothing), `tally` counts one record.
    pub const fn new(tap: &'static Tap<T>, abbr: &'static CStr, title: &'static CStr, init: fn(&Nodes<'_>), tally: fn(&Nodes<'_>, &T)) -> Self {
        StatsTree { tap, abbr, title, init, tally }
    }

    /// Registers the tree (on the tap's name; the tap itself is registered on its own).
    /// Registration or hand-off phase, before tshark reads `-z`.
    pub fn register(&'static self) {
        // SAFETY: strings are 'static; `self` is 'static and is what `tree_cb::<T>` gets back.
        unsafe {
            sys::appleshark_stats_tree_register(self.tap.name.as_ptr(), self.abbr.as_ptr(), self.title.as_ptr(), Some(tree_cb::<T>), self as *const Self as *const c_void)
        }
    }
}

unsafe extern "C" fn tree_cb<T: 'static>(user: *const c_void, st: *mut sys::_stats_tree, record: *const c_void) {
    // SAFETY: `user` is the 'static StatsTree<T> registered with this callback; the tree
    // listens on its Tap<T>, on which only `T` records are queued (Tap::<T>::queue), alive
    // until the packet's pool is freed, after the listeners; `record` is NULL for init.
    let tree = &*(user as *const StatsTree<T>);
    let nodes = Nodes { st, _life: PhantomData };
    let _ = catch_unwind(AssertUnwindSafe(|| match (record as *const T).as_ref() {
        None => (tree.init)(&nodes),
        Some(r) => (tree.tally)(&nodes, r),
    }));
}

/// An init for a tree that needs none (its nodes appear with the first tally).
pub fn no_init(_: &Nodes<'_>) {}

// ---- statistics tables ----

/// The type of a table column.
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

/// A cell of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Uint(u32),
    Float(f64),
    Str(String),
    /// Shown as "-" (in a [`ColType::Str`] column: tshark prints a cell by its column's type).
    Empty,
}

impl Cell {
    /// A number as text that sorts as a number (right-aligned in a fixed width, so Wireshark's
    /// dialog, which sorts a text column by its characters, orders 9.5 before 10.25), or "-"
    /// (sorted first) for none. For a column of type [`ColType::Str`]: tshark prints a cell by
    /// its column's type, so a float column cannot show "-".
    pub fn number_text(v: Option<f64>, decimals: usize) -> Cell {
        match v {
            Some(v) => Cell::Str(format!("{v:>10.decimals$}")),
            None => Cell::Str(format!("{:>10}", "-")),
        }
    }
}

/// The GUI menu a [`StatTable`] is listed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Menu {
    /// Statistics (its middle part, with Wireshark's other "unsorted" tables).
    Statistics,
    /// Telephony (with VoIP Calls, SIP Flows and RTP).
    Telephony,
}

/// A table with one row per key (a `static`), on its own tap of records `R`. Each listener
/// (tshark's `-z <cli>[,filter]`, a GUI dialog) has an accumulator `A` of its own, fed only the
/// records of the packets its filter passes, from empty on every (re)tap: `fold` adds one
/// record to it and returns the row (index, cells) that changed, which replaces the one shown.
pub struct StatTable<R: 'static, A: Default + 'static> {
    tap: Tap<R>,
    title: &'static CStr,
    cli: &'static CStr,
    menu: Menu,
    cols: &'static [Column],
    fold: fn(&mut A, &R) -> Option<(u32, Vec<Cell>)>,
}

thread_local! {
    /// Each listener's accumulator, by (table registration, Wireshark's table).
    static TABLE_STATE: std::cell::RefCell<std::collections::HashMap<(usize, usize), Box<dyn std::any::Any>>> = Default::default();
}

impl<R: 'static, A: Default + 'static> StatTable<R, A> {
    /// The table `title` (`tshark -z <cli>[,filter]`, the GUI's `menu`) with columns `cols`,
    /// on tap `tap_name`.
    pub const fn new(
        tap_name: &'static CStr,
        title: &'static CStr,
        cli: &'static CStr,
        menu: Menu,
        cols: &'static [Column],
        fold: fn(&mut A, &R) -> Option<(u32, Vec<Cell>)>,
    ) -> Self {
        StatTable { tap: Tap::new(tap_name), title, cli, menu, cols, fold }
    }

    /// Registers the tap and the table. Registration phase.
    pub fn register(&'static self) {
        let names: Vec<*const c_char> = self.cols.iter().map(|c| c.name.as_ptr()).collect();
        let formats: Vec<*const c_char> = self.cols.iter().map(|c| c.format.as_ptr()).collect();
        let types: Vec<c_int> = self
            .cols
            .iter()
            .map(|c| {
                (match c.ty {
                    ColType::Uint => sys::APPLESHARK_CELL_UINT,
                    ColType::Float => sys::APPLESHARK_CELL_FLOAT,
                    ColType::Str => sys::APPLESHARK_CELL_STRING,
                }) as c_int
            })
            .collect();
        // SAFETY: registration phase; names/formats are 'static; the arrays are copied by C;
        // `self` is 'static and is what the callbacks get back.
        let id = unsafe {
            sys::appleshark_stat_register(
                self.title.as_ptr(),
                self.tap.name.as_ptr(),
                self.cli.as_ptr(),
                (match self.menu {
                    Menu::Statistics => sys::APPLESHARK_MENU_STATISTICS,
                    Menu::Telephony => sys::APPLESHARK_MENU_TELEPHONY,
                }) as c_int,
                self.cols.len() as _,
                names.as_ptr(),
                types.as_ptr(),
                formats.as_ptr(),
                Some(table_cb::<R, A>),
                Some(table_reset::<R, A>),
                self as *const Self as *const c_void,
            )
        };
        self.tap.id.store(id, Ordering::Relaxed);
    }

    /// True when a listener (tshark -z, the GUI dialog) is attached: build records only then.
    pub fn listening(&self) -> bool {
        self.tap.listening()
    }

    /// Queues `record` for this frame's listeners.
    pub fn queue(&self, pkt: &Packet<'_>, record: R) {
        self.tap.queue(pkt, record);
    }
}

unsafe extern "C" fn table_reset<R: 'static, A: Default + 'static>(user: *const c_void, table: *mut sys::_stat_tap_table) {
    let _ = catch_unwind(|| TABLE_STATE.with(|m| m.borrow_mut().remove(&(user as usize, table as usize))));
}

unsafe extern "C" fn table_cb<R: 'static, A: Default + 'static>(user: *const c_void, table: *mut sys::_stat_tap_table, record: *const c_void) -> c_int {
    // SAFETY: `user` is the 'static StatTable<R, A> registered with this callback; its table
    // listens on its own tap, on which only `R` records are queued (Tap::<R>::queue), alive
    // until the packet's pool is freed, after the listeners.
    let t = &*(user as *const StatTable<R, A>);
    let Some(rec) = (record as *const R).as_ref() else { return 0 };
    catch_unwind(AssertUnwindSafe(|| {
        let row = TABLE_STATE.with(|m| {
            let mut m = m.borrow_mut();
            let acc = m.entry((user as usize, table as usize)).or_insert_with(|| Box::new(A::default()));
            acc.downcast_mut::<A>().and_then(|a| (t.fold)(a, rec))
        });
        match row {
            Some((index, cells)) => set_row(table, index, &cells),
            None => 0,
        }
    }))
    .unwrap_or(0)
}

fn set_row(table: *mut sys::_stat_tap_table, index: u32, cells: &[Cell]) -> c_int {
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
    // SAFETY: `table` is the live table Wireshark handed to the listener; the cells and their
    // strings live for the call and are copied.
    unsafe { sys::appleshark_stat_set_row(table, index, raw.len() as _, raw.as_ptr()) }
}
