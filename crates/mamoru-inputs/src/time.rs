//! Wall-clock helpers: nanoseconds since the epoch and RFC 3339 / SigV4 renderings of them.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

pub fn now_secs() -> u64 {
    now_ns() / 1_000_000_000
}

/// Civil (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day, hour, minute, second) of epoch seconds.
fn parts(secs: u64) -> (i64, u32, u32, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2024-03-01T08:30:00.123456789Z`.
pub fn rfc3339_ns(ns: u64) -> String {
    let (y, mo, d, h, mi, s) = parts(ns / 1_000_000_000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}Z", ns % 1_000_000_000)
}

/// `2024-03-01T08:30:00Z`.
pub fn rfc3339_secs(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = parts(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// SigV4's `x-amz-date` (`20240301T083000Z`) and credential-scope date (`20240301`).
pub fn amz_dates(secs: u64) -> (String, String) {
    let (y, mo, d, h, mi, s) = parts(secs);
    let date = format!("{y:04}{mo:02}{d:02}");
    (format!("{date}T{h:02}{mi:02}{s:02}Z"), date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_instants() {
        assert_eq!(rfc3339_secs(0), "1970-01-01T00:00:00Z");
        // 2024-02-29T23:59:59Z (leap day) = 1709251199.
        assert_eq!(rfc3339_secs(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339_ns(1_709_251_199_000_000_123), "2024-02-29T23:59:59.000000123Z");
        assert_eq!(
            amz_dates(1_440_938_160),
            ("20150830T123600Z".to_string(), "20150830".to_string())
        );
        let back = mamoru_records::parse_rfc3339(&rfc3339_ns(1_700_000_000_987_654_321)).unwrap();
        assert_eq!(back, 1_700_000_000_987_654_321);
    }
}
