//! Event-time renderings of the `evt.time*` / `evt.datetime*` fields (UTC; Falco renders `evt.time` in the local
//! zone, mamoru always in UTC so that output does not depend on the host's TZ setting).

use crate::value::Values;

const NS_PER_SEC: u64 = 1_000_000_000;

/// A UTC civil time split out of nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl Civil {
    pub(crate) fn from_ns(ts_ns: u64) -> Civil {
        let secs = ts_ns / NS_PER_SEC;
        let nanos = (ts_ns % NS_PER_SEC) as u32;
        let days = (secs / 86_400) as i64;
        let rem = (secs % 86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            nanos,
        }
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
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

/// `evt.time`: `HH:MM:SS.nnnnnnnnn`; `evt.time.s`: `HH:MM:SS`.
pub(crate) fn push_time(ts_ns: u64, with_nanos: bool, out: &mut Values) {
    let c = Civil::from_ns(ts_ns);
    if with_nanos {
        out.push_fmt(format_args!(
            "{:02}:{:02}:{:02}.{:09}",
            c.hour, c.minute, c.second, c.nanos
        ));
    } else {
        out.push_fmt(format_args!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second));
    }
}

/// `evt.datetime`: `YYYY-MM-DD HH:MM:SS.nnnnnnnnn`; `evt.datetime.s`: without the fraction.
pub(crate) fn push_datetime(ts_ns: u64, with_nanos: bool, out: &mut Values) {
    let c = Civil::from_ns(ts_ns);
    if with_nanos {
        out.push_fmt(format_args!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:09}",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.nanos
        ));
    } else {
        out.push_fmt(format_args!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        ));
    }
}

/// `evt.time.iso8601`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub(crate) fn push_iso8601(ts_ns: u64, out: &mut Values) {
    let c = Civil::from_ns(ts_ns);
    out.push_fmt(format_args!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.nanos
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn s(f: impl FnOnce(&mut Values)) -> String {
        let mut v = Values::new();
        f(&mut v);
        match v.get(0) {
            Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn renders_known_instants() {
        // 2016-08-04T16:17:57.881781397Z (Falco's own golden output instant).
        let ts = 1_470_327_477_881_781_397;
        assert_eq!(s(|o| push_iso8601(ts, o)), "2016-08-04T16:17:57.881781397Z");
        assert_eq!(s(|o| push_time(ts, true, o)), "16:17:57.881781397");
        assert_eq!(s(|o| push_time(ts, false, o)), "16:17:57");
        assert_eq!(s(|o| push_datetime(ts, true, o)), "2016-08-04 16:17:57.881781397");
        assert_eq!(s(|o| push_datetime(ts, false, o)), "2016-08-04 16:17:57");
        assert_eq!(s(|o| push_iso8601(0, o)), "1970-01-01T00:00:00.000000000Z");
        // A leap day.
        assert_eq!(
            s(|o| push_datetime(1_709_210_096 * NS_PER_SEC, false, o)),
            "2024-02-29 12:34:56"
        );
    }
}
