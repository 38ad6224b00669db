//! Timestamp texts (`evt.time`, `evt.datetime`, `evt.time.iso8601`), in UTC, written without allocating.

use std::io::Write as _;

/// Civil date of a day count since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    min: u64,
    sec: u64,
    nanos: u64,
}

fn parts(ts: u64) -> Parts {
    let secs = ts / 1_000_000_000;
    let nanos = ts % 1_000_000_000;
    let (year, month, day) = civil((secs / 86_400) as i64);
    let tod = secs % 86_400;
    Parts {
        year,
        month,
        day,
        hour: tod / 3600,
        min: (tod % 3600) / 60,
        sec: tod % 60,
        nanos,
    }
}

/// `hh:mm:ss.nnnnnnnnn` (or without the fraction).
pub(crate) fn time_of_day(ts: u64, with_nanos: bool, out: &mut Vec<u8>) {
    let p = parts(ts);
    let _ = write!(out, "{:02}:{:02}:{:02}", p.hour, p.min, p.sec);
    if with_nanos {
        let _ = write!(out, ".{:09}", p.nanos);
    }
}

/// `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` (or without the fraction).
pub(crate) fn datetime(ts: u64, with_nanos: bool, out: &mut Vec<u8>) {
    let p = parts(ts);
    let _ = write!(out, "{:04}-{:02}-{:02} ", p.year, p.month, p.day);
    time_of_day(ts, with_nanos, out);
}

/// `YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ`.
pub(crate) fn iso8601(ts: u64, out: &mut Vec<u8>) {
    let p = parts(ts);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        p.year, p.month, p.day, p.hour, p.min, p.sec, p.nanos
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let ts = 1_700_000_000_123_456_789u64;
        let mut out = Vec::new();
        iso8601(ts, &mut out);
        assert_eq!(out, b"2023-11-14T22:13:20.123456789Z");
        out.clear();
        datetime(ts, false, &mut out);
        assert_eq!(out, b"2023-11-14 22:13:20");
        out.clear();
        time_of_day(0, true, &mut out);
        assert_eq!(out, b"00:00:00.000000000");
        out.clear();
        datetime(951_782_400_000_000_000, false, &mut out);
        assert_eq!(out, b"2000-02-29 00:00:00");
    }
}
