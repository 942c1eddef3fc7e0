//! Timestamps on the wire: RFC 3339 with whole seconds and a `Z` offset.
//!
//! Fractional seconds are avoided on purpose: Python's `fromisoformat`
//! before 3.11 accepts only 3 or 6 fractional digits (docs/protocol.md §1.5).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Formats Unix seconds as `2017-11-09T21:59:16Z`.
pub fn format_unix(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 timestamp (any offset) into Unix seconds.
pub fn parse_unix(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

/// The current time in Unix seconds.
pub fn now_unix() -> i64 {
    Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_whole_seconds_with_z() {
        assert_eq!(format_unix(1510264756), "2017-11-09T21:59:16Z");
        assert_eq!(parse_unix("2017-11-02T15:04:38-07:00"), Some(1509660278));
        assert_eq!(parse_unix("yesterday"), None);
    }
}
