//! Classic libpcap writer (nanosecond magic `0xa1b23c4d`, little-endian) and
//! [`Capture`], a small collector with a steadily advancing clock.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

/// Nanosecond-resolution pcap magic (written in native = little-endian order).
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Default snapshot length in the file header (same as tcpdump's).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// The link-layer type of every record in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): records are Ethernet II frames.
    Ethernet = 1,
    /// `LINKTYPE_RAW` (101): records are bare IPv4/IPv6 packets.
    Raw = 101,
}

/// Streams a pcap file into any `Write`.
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header with [`DEFAULT_SNAPLEN`].
    pub fn new(out: W, link: LinkType) -> io::Result<Self> {
        Self::with_snaplen(out, link, DEFAULT_SNAPLEN)
    }

    /// Writes the global header; every record is then cut to `snaplen` bytes.
    pub fn with_snaplen(mut out: W, link: LinkType, snaplen: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_NANOS.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&(link as u32).to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out, snaplen })
    }

    /// Writes one record stamped `ts` (since the Unix epoch), cut to the snaplen.
    pub fn write_packet(&mut self, ts: Duration, data: &[u8]) -> io::Result<()> {
        self.write_truncated(ts, data, data.len())
    }

    /// Writes one record keeping only the first `caplen` bytes of `data`
    /// (original length = `data.len()`), so dissectors see a truncated frame.
    pub fn write_truncated(&mut self, ts: Duration, data: &[u8], caplen: usize) -> io::Result<()> {
        let caplen = caplen.min(data.len()).min(self.snaplen as usize);
        let secs = u32::try_from(ts.as_secs()).expect("pcap timestamps end in 2106");
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(&secs.to_le_bytes());
        h.extend_from_slice(&ts.subsec_nanos().to_le_bytes());
        h.extend_from_slice(&(caplen as u32).to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&data[..caplen])
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One collected record.
#[derive(Clone, Debug)]
pub struct Record {
    pub ts: Duration,
    pub data: Vec<u8>,
    /// Bytes kept in the file (`< data.len()` for a truncated frame).
    pub caplen: usize,
}

/// Collects frames with timestamps from a clock that advances by `step`
/// after each frame, then writes them all as one pcap file.
#[derive(Clone, Debug)]
pub struct Capture {
    pub link: LinkType,
    /// Timestamp the next pushed frame gets.
    pub clock: Duration,
    /// How far the clock moves after each frame.
    pub step: Duration,
    pub records: Vec<Record>,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Capture {
    /// Ethernet capture starting at 2023-11-14T22:13:20Z, one frame per millisecond.
    pub fn new() -> Self {
        Capture {
            link: LinkType::Ethernet,
            clock: Duration::from_secs(1_700_000_000),
            step: Duration::from_millis(1),
            records: Vec::new(),
        }
    }

    /// Same as [`Capture::new`] but `LINKTYPE_RAW` (push bare IP packets).
    pub fn raw() -> Self {
        Capture {
            link: LinkType::Raw,
            ..Self::new()
        }
    }

    /// Sets the start time and the per-frame step.
    pub fn clock(mut self, start: Duration, step: Duration) -> Self {
        self.clock = start;
        self.step = step;
        self
    }

    /// Moves the clock forward (e.g. to make a gap or a timeout).
    pub fn advance(&mut self, by: Duration) -> &mut Self {
        self.clock += by;
        self
    }

    /// Appends a full frame at the current clock, then advances the clock.
    pub fn push(&mut self, frame: Vec<u8>) -> &mut Self {
        let caplen = frame.len();
        self.push_truncated(frame, caplen)
    }

    /// Appends a frame of which only the first `caplen` bytes are captured.
    pub fn push_truncated(&mut self, frame: Vec<u8>, caplen: usize) -> &mut Self {
        let caplen = caplen.min(frame.len());
        self.records.push(Record {
            ts: self.clock,
            data: frame,
            caplen,
        });
        self.clock += self.step;
        self
    }

    /// Appends several frames, one clock step apart.
    pub fn extend<I: IntoIterator<Item = Vec<u8>>>(&mut self, frames: I) -> &mut Self {
        for f in frames {
            self.push(f);
        }
        self
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Writes the whole capture as a pcap stream.
    pub fn write<W: Write>(&self, out: W) -> io::Result<W> {
        let mut w = PcapWriter::new(out, self.link)?;
        for r in &self.records {
            w.write_truncated(r.ts, &r.data, r.caplen)?;
        }
        w.into_inner()
    }

    /// Writes the whole capture to a file at `path` (created or replaced).
    pub fn write_to<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        let file = std::fs::File::create(path)?;
        self.write(io::BufWriter::new(file))?;
        Ok(())
    }

    /// The pcap file as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.write(Vec::new())
            .expect("writing to a Vec cannot fail")
    }
}
