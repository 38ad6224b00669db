//! UTC time formatting for alert timestamps (nanosecond precision, as Falco prints them).

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's civil-from-days algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
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

/// `2016-08-04T16:17:57.881781397Z`-style text for a time in nanoseconds since the epoch; `zone` is the suffix
/// (`"Z"` for the JSON `time` key, `"+0000"` for the output prefix, as Falco writes them).
pub fn format_rfc3339_nanos(ts_ns: u64, zone: &str) -> String {
    let secs = (ts_ns / 1_000_000_000) as i64;
    let nanos = ts_ns % 1_000_000_000;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}{zone}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// `16:17:57.881781397`: Falco's default text-output time (`evt.time`), in UTC.
pub fn format_time_of_day(ts_ns: u64) -> String {
    let secs = ts_ns / 1_000_000_000;
    let sod = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60,
        ts_ns % 1_000_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_falco_golden_timestamp() {
        // The timestamp of Falco's cat_write.scap golden alert.
        assert_eq!(
            format_rfc3339_nanos(1_470_327_477_881_781_397, "Z"),
            "2016-08-04T16:17:57.881781397Z"
        );
        assert_eq!(format_time_of_day(1_470_327_477_881_781_397), "16:17:57.881781397");
    }

    #[test]
    fn handles_epoch_leap_years_and_century_rules() {
        assert_eq!(format_rfc3339_nanos(0, "Z"), "1970-01-01T00:00:00.000000000Z");
        // 2000-02-29 (divisible by 400: leap) and 2100-03-01 (divisible by 100: not leap).
        assert_eq!(
            format_rfc3339_nanos(951_782_400 * 1_000_000_000, "Z"),
            "2000-02-29T00:00:00.000000000Z"
        );
        assert_eq!(
            format_rfc3339_nanos(4_107_542_400 * 1_000_000_000, "Z"),
            "2100-03-01T00:00:00.000000000Z"
        );
    }
}
