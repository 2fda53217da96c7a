//! Image identifiers: the SHA-1 of the image in 27 base64url digits.
//!
//! The identifier is the 160-bit SHA-1 read as a number and written most
//! significant digit first in the alphabet `A–Z a–z 0–9 - _`, padded to 27
//! digits (162 bits, so the first digit is at most 15). Equivalently it is the
//! base64url form of the 21 bytes `0x00 ‖ SHA-1` without its first character,
//! which is how it is computed here.

use std::fmt;

/// Length of an identifier in characters.
pub const LENGTH: usize = 27;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a string is not an identifier or a SHA-1 checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierError {
    /// The identifier does not have 27 characters.
    Length(usize),
    /// A character outside `A–Z a–z 0–9 - _`.
    Character(char),
    /// The first digit is above 15, so the number has more than 160 bits.
    TooLarge,
    /// The checksum is not hexadecimal or is longer than 160 bits.
    NotSha1(String),
}

impl fmt::Display for IdentifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentifierError::Length(n) => write!(f, "an identifier has 27 characters, not {n}"),
            IdentifierError::Character(c) => {
                write!(f, "'{c}' is not a base64url digit (A-Z a-z 0-9 - _)")
            }
            IdentifierError::TooLarge => {
                write!(f, "the first digit must be A-P (the value has 160 bits)")
            }
            IdentifierError::NotSha1(v) => write!(f, "'{v}' is not a valid SHA-1 checksum"),
        }
    }
}

impl std::error::Error for IdentifierError {}

/// The identifier of an image whose SHA-1 digest is `sha1`.
pub fn from_sha1_bytes(sha1: &[u8; 20]) -> String {
    let mut bytes = [0u8; 21];
    bytes[1..].copy_from_slice(sha1);
    // 21 bytes = 168 bits = 28 digits; the first digit holds 6 zero bits.
    let mut out = String::with_capacity(28);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
        }
    }
    out.split_off(1)
}

/// The identifier for a hexadecimal SHA-1 checksum. Leading zeros are
/// irrelevant (`0c31…` and `c31…` name the same number), upper case is not
/// accepted because the format requires lowercase hex.
pub fn from_sha1_hex(hex: &str) -> Result<String, IdentifierError> {
    Ok(from_sha1_bytes(&sha1_hex_to_bytes(hex)?))
}

/// The 40 lowercase hex digits of the SHA-1 an identifier encodes.
pub fn to_sha1_hex(identifier: &str) -> Result<String, IdentifierError> {
    Ok(to_sha1_bytes(identifier)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The SHA-1 digest an identifier encodes.
pub fn to_sha1_bytes(identifier: &str) -> Result<[u8; 20], IdentifierError> {
    let count = identifier.chars().count();
    if count != LENGTH {
        return Err(IdentifierError::Length(count));
    }
    let mut digits = [0u8; 28];
    for (i, c) in identifier.chars().enumerate() {
        let v = ALPHABET
            .iter()
            .position(|&a| a as char == c)
            .ok_or(IdentifierError::Character(c))?;
        digits[i + 1] = v as u8;
    }
    if digits[1] > 15 {
        return Err(IdentifierError::TooLarge);
    }
    let mut bytes = [0u8; 21];
    for (group, out) in digits.chunks(4).zip(bytes.chunks_mut(3)) {
        let n = group.iter().fold(0u32, |acc, d| (acc << 6) | u32::from(*d));
        out[0] = (n >> 16) as u8;
        out[1] = (n >> 8) as u8;
        out[2] = n as u8;
    }
    let mut sha1 = [0u8; 20];
    sha1.copy_from_slice(&bytes[1..]);
    Ok(sha1)
}

/// Whether `text` has the shape of an identifier (27 base64url digits).
pub fn is_well_formed(text: &str) -> bool {
    to_sha1_bytes(text).is_ok()
}

/// Reads a hexadecimal SHA-1 value as 20 bytes, ignoring leading zeros.
pub fn sha1_hex_to_bytes(hex: &str) -> Result<[u8; 20], IdentifierError> {
    let not = || IdentifierError::NotSha1(hex.to_string());
    if hex.is_empty()
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(not());
    }
    let significant = hex.trim_start_matches('0');
    if significant.len() > 40 {
        return Err(not());
    }
    let padded = format!("{significant:0>40}");
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&padded[2 * i..2 * i + 2], 16).map_err(|_| not())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_pairs() {
        assert_eq!(
            from_sha1_hex("c319bbd5afc0a22ba3eaed0507c39383ec28eeff").unwrap(),
            "MMZu9WvwKIro-rtBQfDk4PsKO7_"
        );
        assert_eq!(
            from_sha1_hex("1104f3e30c030f8b93f220b04131032dddf51f21").unwrap(),
            "BEE8-MMAw-Lk_IgsEExAy3d9R8h"
        );
        assert_eq!(
            to_sha1_hex("BEE8-MMAw-Lk_IgsEExAy3d9R8h").unwrap(),
            "1104f3e30c030f8b93f220b04131032dddf51f21"
        );
    }

    #[test]
    fn leading_zeros() {
        assert_eq!(
            from_sha1_hex("0c319bbd5afc0a22ba3eaed0507c39383ec28eeff").unwrap(),
            "MMZu9WvwKIro-rtBQfDk4PsKO7_"
        );
        let small = from_sha1_hex("00000000000000000000000000000000000000ff").unwrap();
        assert_eq!(small, "AAAAAAAAAAAAAAAAAAAAAAAAAD_");
        assert_eq!(from_sha1_hex("ff").unwrap(), small);
        assert_eq!(from_sha1_hex("0").unwrap(), "A".repeat(27));
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(to_sha1_hex("short"), Err(IdentifierError::Length(5)));
        assert_eq!(
            to_sha1_hex("MMZu9WvwKIro-rtBQfDk4PsKO7="),
            Err(IdentifierError::Character('='))
        );
        assert_eq!(to_sha1_hex(&"_".repeat(27)), Err(IdentifierError::TooLarge));
        assert!(from_sha1_hex("XYZ").is_err());
        assert!(from_sha1_hex("C319BBD5AFC0A22BA3EAED0507C39383EC28EEFF").is_err());
        assert!(from_sha1_hex(&"1".repeat(41)).is_err());
    }

    proptest! {
        #[test]
        fn both_directions(bytes in proptest::array::uniform20(any::<u8>())) {
            let id = from_sha1_bytes(&bytes);
            prop_assert_eq!(id.len(), LENGTH);
            prop_assert_eq!(to_sha1_bytes(&id).unwrap(), bytes);
        }
    }
}
