//! The decoder: header and trailer (nom), the offset table, and a recursive walk over
//! the object graph that checks every offset, reference, count and length before use and
//! keeps within [`Limits`] (depth, nodes, payload bytes), turning bad objects into
//! [`Value::Error`] nodes.

use super::{
    Anomaly, Entry, Error, Limits, Node, Plist, Trailer, TrailerFault, Value, HARD_MAX_DEPTH,
    HEADER_LEN, MAGIC_PREFIX, MIN_LEN, TRAILER_LEN,
};
use crate::core::span::{Span, Spanned};
use nom::bytes::complete::{tag, take};
use nom::number::complete::{be_u64, be_u8};
use nom::IResult;

fn header(i: &[u8]) -> IResult<&[u8], u8> {
    let (i, _) = tag(&MAGIC_PREFIX[..])(i)?;
    be_u8(i)
}

fn trailer(i: &[u8]) -> IResult<&[u8], Trailer> {
    let (i, _unused) = take(5usize)(i)?;
    let (i, sort_version) = be_u8(i)?;
    let (i, offset_int_size) = be_u8(i)?;
    let (i, object_ref_size) = be_u8(i)?;
    let (i, num_objects) = be_u64(i)?;
    let (i, top_object) = be_u64(i)?;
    let (i, offset_table_offset) = be_u64(i)?;
    Ok((
        i,
        Trailer {
            sort_version,
            offset_int_size,
            object_ref_size,
            num_objects,
            top_object,
            offset_table_offset,
        },
    ))
}

/// The big-endian unsigned int made of all of `b` (callers pass exactly the 1..=8
/// bytes the field has; hot path: offsets, references, counts).
#[inline]
fn be_u64_of(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// [`be_u64_of`] for 1..=16 bytes.
#[inline]
fn be_u128_of(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
}

/// Decodes a binary plist. Fails only when the header, trailer or offset table is
/// unusable; everything else is reported in [`Plist::anomalies`] and, where a value
/// could not be produced, as [`Value::Error`] nodes.
pub fn parse(buf: &[u8], limits: Limits) -> Result<Plist<'_>, Error> {
    if buf.len() < MIN_LEN {
        return Err(Error::TooShort(buf.len()));
    }
    let (_, version) = header(buf).map_err(|_| Error::BadMagic)?;
    let trailer_at = buf.len() - TRAILER_LEN;
    let (_, t) = trailer(buf.get(trailer_at..).unwrap_or_default())
        .map_err(|_| Error::TooShort(buf.len()))?;
    if !(1..=8).contains(&t.offset_int_size) {
        return Err(Error::BadTrailer(TrailerFault::OffsetIntSize(
            t.offset_int_size,
        )));
    }
    if !(1..=8).contains(&t.object_ref_size) {
        return Err(Error::BadTrailer(TrailerFault::ObjectRefSize(
            t.object_ref_size,
        )));
    }
    if t.num_objects == 0 {
        return Err(Error::BadTrailer(TrailerFault::NoObjects));
    }
    if t.top_object >= t.num_objects {
        return Err(Error::BadTrailer(TrailerFault::TopObject {
            top: t.top_object,
            num_objects: t.num_objects,
        }));
    }
    let bad_table = Error::BadOffsetTable {
        offset: t.offset_table_offset,
        num_objects: t.num_objects,
        entry_size: t.offset_int_size,
    };
    // The table must start after at least one object byte and end before the trailer.
    let table = usize::try_from(t.offset_table_offset).map_err(|_| bad_table)?;
    let table_len = usize::try_from(t.num_objects)
        .ok()
        .and_then(|n| n.checked_mul(usize::from(t.offset_int_size)))
        .ok_or(bad_table)?;
    let table_end = table.checked_add(table_len).ok_or(bad_table)?;
    if table < HEADER_LEN + 1 || table_end > trailer_at {
        return Err(bad_table);
    }

    let mut d = Decoder {
        buf,
        objects_end: table,
        table,
        offset_size: usize::from(t.offset_int_size),
        ref_size: usize::from(t.object_ref_size),
        num_objects: t.num_objects,
        max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
        limits,
        path: Vec::new(),
        nodes: 0,
        reserved: 0,
        bytes: 0,
        anomalies: Vec::new(),
    };
    if version != b'0' {
        d.anomaly(Anomaly::UnusualVersion(version), Span::new(7, 1));
    }
    if table_end < trailer_at {
        d.anomaly(
            Anomaly::GapBeforeTrailer(trailer_at - table_end),
            Span::new(table_end, trailer_at - table_end),
        );
    }
    let root = d.node(t.top_object, None, 0);
    Ok(Plist {
        version,
        trailer: t,
        trailer_span: Span::new(trailer_at, TRAILER_LEN),
        offset_table_span: Span::new(table, table_len),
        root,
        nodes: d.nodes,
        anomalies: d.anomalies,
    })
}

struct Decoder<'a> {
    buf: &'a [u8],
    /// Objects live in `buf[HEADER_LEN..objects_end]`.
    objects_end: usize,
    table: usize,
    offset_size: usize,
    ref_size: usize,
    num_objects: u64,
    max_depth: usize,
    limits: Limits,
    /// Object numbers of the containers being decoded, outermost first.
    path: Vec<u64>,
    nodes: usize,
    /// Nodes held back for dictionary values whose key is being decoded.
    reserved: usize,
    bytes: usize,
    anomalies: Vec<Spanned<Anomaly>>,
}

/// A failed object: what went wrong and how many of its bytes are known.
type Fail = (Anomaly, usize);

impl<'a> Decoder<'a> {
    fn anomaly(&mut self, a: Anomaly, span: Span) {
        self.anomalies.push(Spanned { value: a, span });
    }

    fn error_node(&mut self, obj: u64, a: Anomaly, span: Span, ref_span: Option<Span>) -> Node<'a> {
        self.anomaly(a, span);
        Node {
            obj,
            span,
            ref_span,
            value: Value::Error(a),
        }
    }

    /// The offset-table entry of `obj` (< num_objects) and where it is.
    fn entry(&self, obj: u64) -> Option<(u64, Span)> {
        let at = usize::try_from(obj)
            .ok()?
            .checked_mul(self.offset_size)?
            .checked_add(self.table)?;
        let bytes = self.buf.get(at..at.checked_add(self.offset_size)?)?;
        let off = be_u64_of(bytes);
        Some((off, Span::new(at, self.offset_size)))
    }

    fn node(&mut self, obj: u64, ref_span: Option<Span>, depth: usize) -> Node<'a> {
        self.nodes = self.nodes.saturating_add(1);
        let entry = if obj < self.num_objects {
            self.entry(obj)
        } else {
            None
        };
        let (off, entry_span) = match entry {
            Some(e) => e,
            None => {
                let at = ref_span.unwrap_or_default();
                return self.error_node(obj, Anomaly::RefOutOfRange { obj }, at, ref_span);
            }
        };
        let at = ref_span.unwrap_or(entry_span);
        if depth > self.max_depth {
            let a = Anomaly::TooDeep {
                limit: self.max_depth,
            };
            return self.error_node(obj, a, at, ref_span);
        }
        if self.path.contains(&obj) {
            return self.error_node(obj, Anomaly::Cycle { obj }, at, ref_span);
        }
        let start = match usize::try_from(off) {
            Ok(s) if s >= HEADER_LEN && s < self.objects_end => s,
            _ => {
                let a = Anomaly::OffsetOutOfRange { obj, offset: off };
                return self.error_node(obj, a, entry_span, ref_span);
            }
        };
        match self.object(obj, start, depth) {
            Ok((value, len)) => Node {
                obj,
                span: Span::new(start, len),
                ref_span,
                value,
            },
            Err((a, len)) => self.error_node(obj, a, Span::new(start, len.max(1)), ref_span),
        }
    }

    /// The object area from `start` (< objects_end) on.
    fn area(&self, start: usize) -> &'a [u8] {
        let buf: &'a [u8] = self.buf;
        buf.get(start..self.objects_end).unwrap_or_default()
    }

    /// `n` bytes at `at` of the object area, or `Truncated` (with the object's known length).
    fn bytes_at(&self, area: &'a [u8], at: usize, n: u64) -> Result<&'a [u8], Fail> {
        let needed = (at as u64).saturating_add(n);
        let trunc = (
            Anomaly::Truncated {
                needed,
                available: area.len(),
            },
            area.len(),
        );
        let n = usize::try_from(n).map_err(|_| trunc)?;
        let end = at.checked_add(n).ok_or(trunc)?;
        area.get(at..end).ok_or(trunc)
    }

    /// Counts `len` payload bytes against `max_bytes`.
    fn spend_bytes(&mut self, len: usize, known: usize) -> Result<(), Fail> {
        let total = self.bytes.saturating_add(len);
        if total > self.limits.max_bytes {
            return Err((
                Anomaly::TooManyBytes {
                    limit: self.limits.max_bytes,
                },
                known,
            ));
        }
        self.bytes = total;
        Ok(())
    }

    /// The count of a data/string/container object: (count, header length).
    fn count(&self, area: &'a [u8], marker: u8) -> Result<(u64, usize), Fail> {
        let nibble = marker & 0x0F;
        if nibble != 0x0F {
            return Ok((u64::from(nibble), 1));
        }
        let int_marker = *self.bytes_at(area, 1, 1)?.first().unwrap_or(&0);
        if !(0x10..=0x13).contains(&int_marker) {
            return Err((Anomaly::BadCount(int_marker), 2));
        }
        let width = 1usize << (int_marker & 0x0F);
        let raw = self.bytes_at(area, 2, width as u64)?;
        let n = be_u64_of(raw);
        Ok((n, 2 + width))
    }

    /// Decodes the object at `start`: (value, length of its own bytes).
    fn object(&mut self, obj: u64, start: usize, depth: usize) -> Result<(Value<'a>, usize), Fail> {
        let area = self.area(start);
        let marker = *area.first().ok_or((
            Anomaly::Truncated {
                needed: 1,
                available: 0,
            },
            0,
        ))?;
        let nibble = marker & 0x0F;
        match marker >> 4 {
            0x0 => match nibble {
                0x0 => Ok((Value::Null, 1)),
                0x8 => Ok((Value::Bool(false), 1)),
                0x9 => Ok((Value::Bool(true), 1)),
                0xF => Ok((Value::Fill, 1)),
                _ => Err((Anomaly::UnknownMarker(marker), 1)),
            },
            0x1 => {
                let width = match nibble {
                    0..=4 => 1usize << nibble,
                    _ => return Err((Anomaly::BadWidth(marker), 1)),
                };
                let raw = self.bytes_at(area, 1, width as u64)?;
                let u = be_u128_of(raw);
                let v = match width {
                    // Two's complement at 8 and 16 bytes; the narrower ones are unsigned.
                    8 => i128::from(u as u64 as i64),
                    16 => u as i128,
                    _ => u as i128,
                };
                Ok((Value::Int(v), 1 + width))
            }
            0x2 | 0x3 => {
                let is_date = marker >> 4 == 0x3;
                let width = match (is_date, nibble) {
                    (false, 2) => 4,
                    (_, 3) => 8,
                    _ if is_date => return Err((Anomaly::UnknownMarker(marker), 1)),
                    _ => return Err((Anomaly::BadWidth(marker), 1)),
                };
                let raw = self.bytes_at(area, 1, width)?;
                let bits = be_u64_of(raw);
                let f = if width == 4 {
                    f64::from(f32::from_bits(bits as u32))
                } else {
                    f64::from_bits(bits)
                };
                let v = if is_date {
                    Value::Date(f)
                } else {
                    Value::Real(f)
                };
                Ok((v, 1 + width as usize))
            }
            0x4..=0x6 => {
                let (n, hdr) = self.count(area, marker)?;
                let unit = if marker >> 4 == 0x6 { 2 } else { 1 };
                let raw = self.bytes_at(area, hdr, n.saturating_mul(unit))?;
                let len = hdr + raw.len();
                self.spend_bytes(raw.len(), len)?;
                match marker >> 4 {
                    0x4 => Ok((Value::Data(raw), len)),
                    // Keys and short strings dominate: an inline ASCII test, not a call.
                    0x5 => match raw.iter().all(u8::is_ascii).then(|| std::str::from_utf8(raw)) {
                        Some(Ok(s)) => Ok((Value::Ascii(s), len)),
                        _ => Err((Anomaly::BadAscii, len)),
                    },
                    _ => {
                        let units = raw
                            .chunks_exact(2)
                            .map(|c| u16::from_be_bytes([c[0], c[1]]));
                        let mut s = String::with_capacity(raw.len());
                        let mut lossy = false;
                        for c in char::decode_utf16(units) {
                            s.push(c.unwrap_or_else(|_| {
                                lossy = true;
                                char::REPLACEMENT_CHARACTER
                            }));
                        }
                        if lossy {
                            self.anomaly(Anomaly::BadUtf16, Span::new(start, len));
                        }
                        Ok((Value::Utf16(s), len))
                    }
                }
            }
            0x8 => {
                let width = usize::from(nibble) + 1;
                let raw = self.bytes_at(area, 1, width as u64)?;
                let u = be_u128_of(raw);
                Ok((Value::Uid(u), 1 + width))
            }
            0xA | 0xC | 0xD => self.container(obj, start, area, marker, depth),
            _ => Err((Anomaly::UnknownMarker(marker), 1)),
        }
    }

    fn container(
        &mut self,
        obj: u64,
        start: usize,
        area: &'a [u8],
        marker: u8,
        depth: usize,
    ) -> Result<(Value<'a>, usize), Fail> {
        let (n, hdr) = self.count(area, marker)?;
        let is_dict = marker >> 4 == 0xD;
        let per_item = (self.ref_size as u64) * if is_dict { 2 } else { 1 };
        let refs = self.bytes_at(area, hdr, n.saturating_mul(per_item))?;
        let len = hdr + refs.len();
        let span = Span::new(start, len);
        // `n` is now known to be at most the bytes present; still, reserve no more than
        // the node budget allows.
        let n = refs.len() / per_item as usize;
        let room = self.limits.max_objects.saturating_sub(self.nodes.saturating_add(self.reserved));
        let rs = self.ref_size;
        let read_ref = |i: usize| -> (u64, Span) {
            let at = i * rs;
            let r = refs.get(at..at + rs).map_or(u64::MAX, be_u64_of);
            (r, Span::new(start + hdr + at, rs))
        };

        self.path.push(obj);
        let value = if is_dict {
            let mut entries = Vec::with_capacity(n.min(room / 2));
            for i in 0..n {
                if self.nodes.saturating_add(self.reserved).saturating_add(2) > self.limits.max_objects {
                    self.anomaly(
                        Anomaly::TooManyObjects {
                            limit: self.limits.max_objects,
                        },
                        span,
                    );
                    break;
                }
                let (k, kspan) = read_ref(i);
                let (v, vspan) = read_ref(n + i);
                // The key is decoded with one node held back for its value: a container key
                // could otherwise use up the budget and leave the value one node over
                // `max_objects` (per level of such nesting; found by fuzzing).
                self.reserved += 1;
                let key = self.node(k, Some(kspan), depth + 1);
                self.reserved -= 1;
                if !matches!(
                    key.value,
                    Value::Ascii(_) | Value::Utf16(_) | Value::Error(_)
                ) {
                    self.anomaly(Anomaly::NonStringKey, key.span);
                }
                let value = self.node(v, Some(vspan), depth + 1);
                entries.push(Entry { key, value });
            }
            Value::Dict(entries)
        } else {
            let mut items = Vec::with_capacity(n.min(room));
            for i in 0..n {
                if self.nodes.saturating_add(self.reserved) >= self.limits.max_objects {
                    self.anomaly(
                        Anomaly::TooManyObjects {
                            limit: self.limits.max_objects,
                        },
                        span,
                    );
                    break;
                }
                let (r, rspan) = read_ref(i);
                items.push(self.node(r, Some(rspan), depth + 1));
            }
            if marker >> 4 == 0xA {
                Value::Array(items)
            } else {
                Value::Set(items)
            }
        };
        self.path.pop();
        Ok((value, len))
    }
}

// ------------------------------------------------------------------------------------
// Accessors and rendering.

