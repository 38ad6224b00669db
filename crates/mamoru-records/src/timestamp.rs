//! RFC 3339 timestamps (`2024-03-01T12:00:00.123456789Z`, `...+02:00`) to nanoseconds since the epoch.

const NS_PER_SEC: i128 = 1_000_000_000;

/// Parses an RFC 3339 date-time (as Go's `time.RFC3339`/`RFC3339Nano` layouts accept it: `T` or `t` separator,
/// optional fraction of any length, `Z`/`z` or a `±HH:MM` offset). Instants before the epoch give `None`.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(b, 0, 4)? as i64;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
        return None;
    }
    // Go accepts a leap second written as :60 only in parsing to the next second; keep 59 as the bound.
    if second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + i128::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset_s: i128 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let off = i128::from(oh * 3600 + om * 60);
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = i128::from(days) * 86_400 + i128::from(hour * 3600 + minute * 60 + second) - offset_s;
    let ns = secs * NS_PER_SEC + nanos;
    u64::try_from(ns).ok()
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = b.get(at..at + n)?;
    slice.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_variants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2016-08-04T16:17:57.881781397Z"),
            Some(1_470_327_477_881_781_397)
        );
        assert_eq!(
            parse_rfc3339("2016-08-04T16:17:57.881Z"),
            Some(1_470_327_477_881_000_000)
        );
        assert_eq!(
            parse_rfc3339("2016-08-04t18:17:57+02:00"),
            Some(1_470_327_477_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2016-08-04T14:17:57.5-02:00"),
            Some(1_470_327_477_500_000_000)
        );
        // More than nine fraction digits are truncated.
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.1234567891Z"), Some(1_123_456_789));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800_000_000_000));
    }

    #[test]
    fn rejects_malformed_and_pre_epoch() {
        for bad in [
            "",
            "2016-08-04",
            "2016-08-04 16:17:57Z",
            "2016-13-04T16:17:57Z",
            "2023-02-29T00:00:00Z",
            "2016-08-04T16:17:57",
            "2016-08-04T16:17:57.Z",
            "2016-08-04T16:17:57+0200",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
