//! Arbitrary bytes through every entry point that reads untrusted documents:
//! the format parser, the strict-profile signature verifier (when the bytes
//! are UTF-8) and the whole-document check. Nothing may panic, overflow the
//! stack or abort; errors and problems are the expected outcome.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use marketplace_trust::document::{CheckOptions, check_document};

fuzz_target!(|data: &[u8]| {
    let parsed = marketplace_format::parse(data);
    // A document the XML layer refuses must be reported, never "valid".
    if data.len() > marketplace_format::MAX_DOCUMENT_BYTES {
        assert!(!parsed.is_valid());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = marketplace_trust::dsig::is_signed(text);
        let _ = marketplace_trust::dsig::verify(text);
    }
    // A fixed instant keeps runs reproducible (expiry depends on it).
    let options = CheckOptions {
        at: Some(Utc.with_ymd_and_hms(2012, 6, 1, 0, 0, 0).unwrap()),
        ..CheckOptions::default()
    };
    let report = check_document(data, &options);
    if !parsed.is_valid() {
        assert!(!report.is_valid());
    }
});
