//! XML Schema dateTime values as the format uses them: UTC, whole seconds.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Parses `YYYY-MM-DDTHH:MM:SSZ` strictly (the form the original tools wrote
/// and the server's coordinates rely on). Returns a sentence on failure.
pub fn parse_utc(text: &str) -> Result<DateTime<Utc>, String> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(format!(
            "'{text}' is not an XML Schema dateTime in UTC of the form YYYY-MM-DDTHH:MM:SSZ"
        ));
    }
    NaiveDateTime::parse_from_str(&text[..19], "%Y-%m-%dT%H:%M:%S")
        .map(|n| n.and_utc())
        .map_err(|e| format!("'{text}' is not a real date and time: {e}"))
}

/// Formats an instant the way documents carry it (`2011-01-24T09:59:42Z`).
pub fn format_utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = parse_utc("2011-01-24T09:59:42Z").unwrap();
        assert_eq!(format_utc(t), "2011-01-24T09:59:42Z");
    }

    #[test]
    fn rejects_bad_shapes_and_values() {
        assert!(parse_utc("2011-01-24X09:59:42Z").is_err());
        assert!(
            parse_utc("2011-01-24T99:59:42Z")
                .unwrap_err()
                .contains("real date")
        );
        assert!(parse_utc("2011-13-24T09:59:42Z").is_err());
        assert!(parse_utc("2011-01-24T09:59:42").is_err());
        assert!(parse_utc("2011-01-24T09:59:42+01:00").is_err());
    }
}
