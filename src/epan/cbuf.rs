//! NUL-terminated text for Wireshark calls without a heap allocation in the usual case.
//!
//! Column and tree calls copy the string they are given, so the text only has to live for
//! the call: [`CBuf`] keeps up to [`CBuf::INLINE`] bytes on the stack and moves to a heap
//! buffer only for longer text. A NUL inside the text is written as `\0` (as
//! [`super::packet::cstring`] does), so Wireshark never sees a truncated string.

use std::ffi::c_char;
use std::fmt;
use std::mem::MaybeUninit;

pub struct CBuf {
    /// Bytes `..len` are written; the rest is never read (so never initialised: this is
    /// built for every frame's column text).
    buf: MaybeUninit<[u8; Self::INLINE + 1]>,
    len: usize,
    heap: Option<Vec<u8>>,
}

impl CBuf {
    /// Bytes kept on the stack (the Info column's own limit is 256 bytes in 4.0).
    pub const INLINE: usize = 255;

    pub fn new() -> Self {
        CBuf { buf: MaybeUninit::uninit(), len: 0, heap: None }
    }

    /// The text of `s`, NUL-terminated.
    pub fn from_str(s: &str) -> Self {
        let mut b = Self::new();
        b.push(s.as_bytes());
        b
    }

    /// Appends text.
    #[inline]
    pub fn push_str(&mut self, s: &str) -> &mut Self {
        self.push(s.as_bytes());
        self
    }

    /// Appends `n` in decimal, without the formatting machinery.
    #[inline]
    pub fn push_num(&mut self, n: u64) -> &mut Self {
        if self.heap.is_none() && self.len + 20 <= Self::INLINE {
            // Digits written straight into the buffer, then reversed in place.
            let start = self.len;
            let mut n = n;
            let base = self.buf.as_mut_ptr() as *mut u8;
            loop {
                // SAFETY: at most 20 digits, and len + 20 ≤ INLINE.
                unsafe { *base.add(self.len) = b'0' + (n % 10) as u8 };
                self.len += 1;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            // SAFETY: bytes start..len were just written.
            unsafe { std::slice::from_raw_parts_mut(base.add(start), self.len - start) }.reverse();
            return self;
        }
        let mut b = [0u8; 20];
        let mut i = b.len();
        let mut n = n;
        loop {
            i -= 1;
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push_raw(&b[i..]);
        self
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) {
        // Short pieces (most of them) are checked byte by byte; memchr for the long ones.
        if bytes.len() <= 16 && bytes.iter().fold(true, |ok, &b| ok & (b != 0)) {
            self.push_raw(bytes);
        } else {
            self.push_escaped(bytes);
        }
    }

    #[cold]
    fn push_escaped(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (chunk, nul) = match memchr::memchr(0, bytes) {
                Some(i) => (&bytes[..i], true),
                None => (bytes, false),
            };
            self.push_raw(chunk);
            bytes = &bytes[chunk.len()..];
            if nul {
                self.push_raw(b"\\0");
                bytes = &bytes[1..];
            }
        }
    }

    #[inline]
    fn push_raw(&mut self, bytes: &[u8]) {
        if self.heap.is_none() && self.len + bytes.len() <= Self::INLINE {
            // SAFETY: len + bytes.len() ≤ INLINE < the buffer's size; the source is a live
            // slice that cannot overlap our own buffer (we hand out no &mut to it).
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), (self.buf.as_mut_ptr() as *mut u8).add(self.len), bytes.len());
            }
            self.len += bytes.len();
        } else {
            self.push_heap(bytes);
        }
    }

    #[cold]
    fn push_heap(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.heap {
            h.extend_from_slice(bytes);
        } else {
            let mut h = Vec::with_capacity((self.len + bytes.len()) * 2 + 1);
            h.extend_from_slice(self.inline());
            h.extend_from_slice(bytes);
            self.heap = Some(h);
        }
    }

    fn inline(&self) -> &[u8] {
        // SAFETY: bytes ..len were written by push_raw.
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.len) }
    }

    /// The text so far (without the NUL).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.heap {
            Some(h) => h.strip_suffix(&[0]).unwrap_or(h),
            None => self.inline(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// A pointer to the NUL-terminated text, valid while `self` is neither moved nor changed.
    pub(crate) fn as_ptr(&mut self) -> *const c_char {
        match &mut self.heap {
            Some(h) => {
                if h.last() != Some(&0) {
                    h.push(0);
                }
                h.as_ptr() as *const c_char
            }
            None => {
                // SAFETY: len ≤ INLINE, inside the buffer.
                unsafe { *(self.buf.as_mut_ptr() as *mut u8).add(self.len) = 0 };
                self.buf.as_ptr() as *const c_char
            }
        }
    }
}

impl Default for CBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for CBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(h) = &mut self.heap {
            // as_ptr may have terminated it: keep writing before the NUL.
            if h.last() == Some(&0) {
                h.pop();
            }
        }
        self.push(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::fmt::Write;

    fn text(b: &mut CBuf) -> String {
        // SAFETY: as_ptr is NUL-terminated and lives as long as b.
        unsafe { CStr::from_ptr(b.as_ptr()) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn short_text_stays_inline_and_is_terminated() {
        let mut b = CBuf::from_str("abc");
        assert!(b.heap.is_none());
        assert_eq!(text(&mut b), "abc");
        write!(b, " {}", 42).unwrap();
        assert_eq!(text(&mut b), "abc 42");
    }

    #[test]
    fn long_text_moves_to_the_heap_whole() {
        let s: String = (0..1000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let mut b = CBuf::from_str(&s[..200]);
        write!(b, "{}", &s[200..]).unwrap();
        assert!(b.heap.is_some());
        assert_eq!(text(&mut b), s);
        write!(b, "!").unwrap();
        assert_eq!(text(&mut b), format!("{s}!"));
    }

    #[test]
    fn exactly_inline_fits() {
        let s = "x".repeat(CBuf::INLINE);
        let mut b = CBuf::from_str(&s);
        assert!(b.heap.is_none());
        assert_eq!(text(&mut b), s);
    }

    #[test]
    fn numbers_and_pieces() {
        let mut b = CBuf::new();
        b.push_str(" [x ").push_num(0).push_str("/").push_num(u64::MAX).push_str("]");
        assert_eq!(text(&mut b), format!(" [x 0/{}]", u64::MAX));
        assert_eq!(b.as_bytes(), format!(" [x 0/{}]", u64::MAX).as_bytes());
    }

    #[test]
    fn nul_inside_is_shown_escaped() {
        let mut b = CBuf::from_str("a\0b\0");
        assert_eq!(text(&mut b), "a\\0b\\0");
        assert_eq!(text(&mut CBuf::from_str("")), "");
    }
}
