//! One declaration form for value enums: [`value_enum!`] writes each variant's code and name
//! once and derives from them the enum, `code()`, `from_code()`, `name()` and a const `VALS`
//! table (code, NUL-terminated name) that the dissectors hand to Wireshark as value names.
//!
//! An enum may be *open* (`open Unknown`): every code then maps to a variant, codes without a
//! name to `Unknown(code)`, which keeps the code and is left out of `VALS`. A variant may also
//! carry a phrase for sentences (expert texts, Info), next to its short name.
//!
//! No epan types here: `VALS` is plain `&[(u32, &CStr)]`.
#![forbid(unsafe_code)]

use std::ffi::CStr;

/// `bytes` (a string literal with its NUL appended by [`value_enum!`]) as a `CStr`, at
/// compile time.
#[doc(hidden)]
pub const fn cstr(bytes: &'static [u8]) -> &'static CStr {
    match CStr::from_bytes_with_nul(bytes) {
        Ok(c) => c,
        Err(_) => panic!("value name with a NUL inside"),
    }
}

/// Declares a value enum once.
///
/// ```ignore
/// value_enum! {
///     /// Why a subflow stopped being usable.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum CloseReason: u8 {
///         RemoveAddr = 1 => "REMOVE_ADDR", "removed by REMOVE_ADDR";
///         Reset = 2 => "TCP reset", "reset";
///     }
/// }
/// ```
///
/// gives `CloseReason::code(self) -> u8`, `CloseReason::from_code(u8) -> Option<Self>`,
/// `CloseReason::name(self) -> &'static str`, `CloseReason::phrase(self)` (the second string,
/// or the name) and `CloseReason::VALS`. With `open Unknown` after the type, the enum gets a
/// variant `Unknown(u8)`, `from_code` becomes total (`from_code(u8) -> Self`) and
/// `name(Unknown(_))` is the given fallback name.
#[macro_export]
macro_rules! value_enum {
    // Closed: every value is one of the variants.
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident : $repr:ty {
            $( $(#[$vattr:meta])* $variant:ident = $code:literal => $vname:literal $(, $phrase:literal)? ; )*
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $( $(#[$vattr])* $variant, )*
        }

        impl $name {
            /// Value names (code, name) in declaration order, as Wireshark's value_string.
            pub const VALS: &'static [(u32, &'static ::std::ffi::CStr)] =
                &[ $( ($code as u32, $crate::core::enums::cstr(concat!($vname, "\0").as_bytes())) ),* ];

            pub const fn code(self) -> $repr {
                match self {
                    $( $name::$variant => $code, )*
                }
            }

            pub const fn from_code(code: $repr) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }

            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $vname, )*
                }
            }

            /// The variant in a sentence (falls back to the name).
            #[allow(dead_code)]
            pub const fn phrase(self) -> &'static str {
                match self {
                    $( $name::$variant => $crate::value_enum!(@phrase $vname $(, $phrase)?), )*
                }
            }
        }
    };
    // Open: codes without a variant are kept in `$unknown(code)`.
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident : $repr:ty, open $unknown:ident => $uname:literal {
            $( $(#[$vattr:meta])* $variant:ident = $code:literal => $vname:literal $(, $phrase:literal)? ; )*
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $( $(#[$vattr])* $variant, )*
            /// Any other code, kept.
            $unknown($repr),
        }

        impl $name {
            /// Value names (code, name) of the named variants, as Wireshark's value_string.
            pub const VALS: &'static [(u32, &'static ::std::ffi::CStr)] =
                &[ $( ($code as u32, $crate::core::enums::cstr(concat!($vname, "\0").as_bytes())) ),* ];

            pub const fn code(self) -> $repr {
                match self {
                    $( $name::$variant => $code, )*
                    $name::$unknown(c) => c,
                }
            }

            pub const fn from_code(code: $repr) -> Self {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::$unknown(other),
                }
            }

            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $vname, )*
                    $name::$unknown(_) => $uname,
                }
            }

            /// The variant in a sentence (falls back to the name).
            #[allow(dead_code)]
            pub const fn phrase(self) -> &'static str {
                match self {
                    $( $name::$variant => $crate::value_enum!(@phrase $vname $(, $phrase)?), )*
                    $name::$unknown(_) => $uname,
                }
            }
        }
    };
    (@phrase $vname:literal) => { $vname };
    (@phrase $vname:literal, $phrase:literal) => { $phrase };
}

#[cfg(test)]
mod tests {
    crate::value_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Closed: u8 {
            A = 1 => "a";
            B = 3 => "b", "the b";
        }
    }

    crate::value_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Open: u8, open Other => "Unknown" {
            X = 0 => "x";
        }
    }

    #[test]
    fn closed_round_trips() {
        for v in [Closed::A, Closed::B] {
            assert_eq!(Closed::from_code(v.code()), Some(v));
        }
        assert_eq!(Closed::from_code(2), None);
        assert_eq!(Closed::B.name(), "b");
        assert_eq!(Closed::B.phrase(), "the b");
        assert_eq!(Closed::A.phrase(), "a");
        let vals: Vec<(u32, &str)> = Closed::VALS.iter().map(|(c, n)| (*c, n.to_str().unwrap())).collect();
        assert_eq!(vals, [(1, "a"), (3, "b")]);
    }

    #[test]
    fn open_keeps_unknown_codes() {
        assert_eq!(Open::from_code(0), Open::X);
        assert_eq!(Open::from_code(7), Open::Other(7));
        assert_eq!(Open::Other(7).code(), 7);
        assert_eq!(Open::Other(7).name(), "Unknown");
        assert_eq!(Open::VALS.len(), 1);
    }
}
