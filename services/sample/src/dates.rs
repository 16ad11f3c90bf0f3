//! Civil dates as day numbers, and their ISO 8601 / RFC 3339 forms.

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The year of a day number.
pub(crate) fn year_of(days: i64) -> i64 {
    civil_from_days(days).0
}

/// Months counted from year 0: `year * 12 + (month - 1)`.
pub(crate) fn month_index(year: i64, month: u32) -> i64 {
    year * 12 + i64::from(month) - 1
}

/// First day of a month index, as a day number.
pub(crate) fn first_of_month(month_index: i64) -> i64 {
    days_from_civil(
        month_index.div_euclid(12),
        month_index.rem_euclid(12) as u32 + 1,
        1,
    )
}

/// Last day of a month index, as a day number.
pub(crate) fn last_of_month(month_index: i64) -> i64 {
    first_of_month(month_index + 1) - 1
}

/// "YYYY-MM-DD".
pub(crate) fn iso_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// "YYYY-MM-DDTHH:MM:SSZ" for a day number and seconds into that day.
pub(crate) fn rfc3339(days: i64, seconds: u32) -> String {
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(iso_date(days_from_civil(2000, 2, 29)), "2000-02-29");
        assert_eq!(iso_date(days_from_civil(2024, 12, 31) + 1), "2025-01-01");
        assert_eq!(iso_date(last_of_month(month_index(2023, 2))), "2023-02-28");
        assert_eq!(
            rfc3339(days_from_civil(2019, 5, 4), 8 * 3600 + 30 * 60),
            "2019-05-04T08:30:00Z"
        );
        for d in (-1000..30_000).step_by(7) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
