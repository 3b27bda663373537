//! Byte ranges inside a packet, so that renderers place tree items without re-parsing.

/// A field's place in the parsed buffer: `offset` from the start of the slice the parser
/// was given, `len` bytes long. Parsers only build spans inside the captured bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(offset: usize, len: usize) -> Self {
        Span { offset, len }
    }
    /// The end (exclusive) of the range.
    pub const fn end(&self) -> usize {
        self.offset + self.len
    }
    /// The same range moved `by` bytes later (for a parser handed a sub-slice).
    pub const fn shift(&self, by: usize) -> Self {
        Span { offset: self.offset + by, len: self.len }
    }
}

/// A value together with where it sits in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub const fn new(value: T, offset: usize, len: usize) -> Self {
        Spanned { value, span: Span::new(offset, len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn span_arithmetic() {
        let s = Span::new(4, 8);
        assert_eq!(s.end(), 12);
        assert_eq!(s.shift(10), Span::new(14, 8));
    }
}
