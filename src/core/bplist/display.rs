//! One-line renderings for tree labels and messages: `Display` of [`Value`] (strings
//! quoted and cut, data as a short hex prefix, containers as their size), of [`Anomaly`]
//! and [`Error`], and plist dates as UTC calendar time ([`format_date`]).

use super::{date_to_unix, Anomaly, Error, TrailerFault, Value};
use std::fmt;
use std::fmt::Write as _;

const LABEL_MAX_CHARS: usize = 64;
const LABEL_MAX_BYTES: usize = 16;

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for (i, c) in s.chars().enumerate() {
        if i == LABEL_MAX_CHARS {
            return f.write_str("\"…");
        }
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Fill => f.write_str("fill"),
            Value::Int(v) => write!(f, "{v}"),
            // Debug: shortest round-trip form, exponent for huge/tiny ("1e300", "1.5").
            Value::Real(v) => write!(f, "{v:?}"),
            Value::Date(v) => f.write_str(&format_date(*v)),
            Value::Data(b) => {
                f.write_char('<')?;
                for x in b.iter().take(LABEL_MAX_BYTES) {
                    write!(f, "{x:02x}")?;
                }
                if b.len() > LABEL_MAX_BYTES {
                    f.write_char('…')?;
                }
                write!(
                    f,
                    "> ({} byte{})",
                    b.len(),
                    if b.len() == 1 { "" } else { "s" }
                )
            }
            Value::Ascii(s) => write_quoted(f, s),
            Value::Utf16(s) => write_quoted(f, s),
            Value::Uid(v) => write!(f, "UID({v})"),
            Value::Array(v) => write!(f, "array ({} item{})", v.len(), plural(v.len())),
            Value::Set(v) => write!(f, "set ({} item{})", v.len(), plural(v.len())),
            Value::Dict(v) => write!(
                f,
                "dict ({} entr{})",
                v.len(),
                if v.len() == 1 { "y" } else { "ies" }
            ),
            Value::Error(a) => write!(f, "error: {a}"),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Renders a plist date as "YYYY-MM-DD hh:mm:ss[.mmm] UTC"; out-of-range or non-finite
/// values as the raw number of seconds since 2001.
pub fn format_date(secs_since_2001: f64) -> String {
    let unix = date_to_unix(secs_since_2001);
    // ±1e14 s is about ±3 million years: far inside i64 milliseconds.
    if !unix.is_finite() || unix.abs() > 1e14 {
        return format!("{secs_since_2001:?} s since 2001-01-01 UTC");
    }
    let ms = (unix * 1000.0).round() as i64;
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} UTC")
    } else {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}.{milli:03} UTC")
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::UnusualVersion(v) => write!(f, "unusual bplist version byte 0x{v:02x}"),
            Anomaly::GapBeforeTrailer(n) => write!(f, "{n} bytes between offset table and trailer"),
            Anomaly::RefOutOfRange { obj } => {
                write!(f, "reference to object {obj}, past the last object")
            }
            Anomaly::OffsetOutOfRange { obj, offset } => {
                write!(
                    f,
                    "object {obj} at offset {offset}, outside the object area"
                )
            }
            Anomaly::Cycle { obj } => write!(f, "cyclic reference to object {obj} (not followed)"),
            Anomaly::TooDeep { limit } => {
                write!(f, "nested deeper than {limit} levels (not followed)")
            }
            Anomaly::TooManyObjects { limit } => {
                write!(f, "more than {limit} objects (rest not decoded)")
            }
            Anomaly::TooManyBytes { limit } => {
                write!(f, "more than {limit} payload bytes (not decoded)")
            }
            Anomaly::Truncated { needed, available } => {
                write!(f, "object needs {needed} bytes, only {available} present")
            }
            Anomaly::UnknownMarker(m) => write!(f, "unknown object marker 0x{m:02x}"),
            Anomaly::BadWidth(m) => write!(f, "unsupported size in marker 0x{m:02x}"),
            Anomaly::BadCount(m) => write!(f, "extended count with marker 0x{m:02x}, not an int"),
            Anomaly::BadAscii => f.write_str("non-ASCII bytes in an ASCII string"),
            Anomaly::BadUtf16 => f.write_str("invalid UTF-16 (unpaired surrogate)"),
            Anomaly::NonStringKey => f.write_str("dictionary key is not a string"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooShort(n) => write!(f, "{n} bytes, too short for a binary plist"),
            Error::BadMagic => f.write_str("not a binary plist (no \"bplist0\" magic)"),
            Error::BadTrailer(TrailerFault::OffsetIntSize(n)) => {
                write!(f, "bad trailer: offset size {n}")
            }
            Error::BadTrailer(TrailerFault::ObjectRefSize(n)) => {
                write!(f, "bad trailer: object ref size {n}")
            }
            Error::BadTrailer(TrailerFault::NoObjects) => f.write_str("bad trailer: no objects"),
            Error::BadTrailer(TrailerFault::TopObject { top, num_objects }) => {
                write!(f, "bad trailer: top object {top} of {num_objects}")
            }
            Error::BadOffsetTable {
                offset,
                num_objects,
                entry_size,
            } => write!(
                f,
                "offset table at {offset} ({num_objects} × {entry_size} bytes) outside the file"
            ),
        }
    }
}

impl std::error::Error for Error {}
