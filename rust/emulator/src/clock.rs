//! Wall-clock helpers: epoch seconds, RFC 3339 timestamps (with milliseconds, or with the 7
//! fractional digits .NET and ARM write), Entra's `2016-01-09 02:02:12Z` and .NET's
//! `1/9/2016 2:02:12 AM`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since the Unix epoch (zero if the clock is before 1970).
pub(crate) fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Whole seconds since the Unix epoch.
pub(crate) fn now_epoch() -> u64 {
    since_epoch().as_secs()
}

/// Formats epoch seconds as `YYYY-MM-DD HH:MM:SSZ` (UTC), the way Entra writes `timestamp`.
pub(crate) fn utc_timestamp(epoch: u64) -> String {
    format_utc(epoch, ' ')
}

/// Formats a time since the epoch as RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(epoch: u64) -> String {
    format_utc(epoch, 'T')
}

/// Formats a time since the epoch as RFC 3339 UTC with milliseconds,
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn rfc3339_millis(since_epoch: Duration) -> String {
    let whole = rfc3339(since_epoch.as_secs());
    let seconds = whole.strip_suffix('Z').unwrap_or(&whole);
    format!("{seconds}.{:03}Z", since_epoch.subsec_millis())
}

/// The current time as RFC 3339 UTC with milliseconds.
pub(crate) fn now_rfc3339_millis() -> String {
    rfc3339_millis(since_epoch())
}

/// Formats a time since the epoch as RFC 3339 UTC with 7 fractional digits (100 ns ticks),
/// `YYYY-MM-DDTHH:MM:SS.fffffffZ`, the way ARM writes times.
pub(crate) fn rfc3339_ticks(since_epoch: Duration) -> String {
    let whole = rfc3339(since_epoch.as_secs());
    let seconds = whole.strip_suffix('Z').unwrap_or(&whole);
    format!("{seconds}.{:07}Z", since_epoch.subsec_nanos() / 100)
}

/// Rewrites an RFC 3339 time (`Z` or `±HH:MM` offset, any number of fractional digits) as UTC
/// with 7 fractional digits; `None` when `text` is not such a time or is before 1970.
pub(crate) fn to_rfc3339_ticks(text: &str) -> Option<String> {
    parse_rfc3339(text).map(rfc3339_ticks)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM)` (a space or `t` also separates date and time).
fn parse_rfc3339(text: &str) -> Option<Duration> {
    let number = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = text.get(range)?;
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let bytes = text.as_bytes();
    let separators_ok = bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && bytes.get(13) == Some(&b':')
        && bytes.get(16) == Some(&b':');
    if !separators_ok {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // A leap second reads as the next second.
    if second > 60 || year < 1970 {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut nanos: u32 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (index, byte) in fraction.bytes().take(9).take(digits).enumerate() {
            nanos += u32::from(byte - b'0') * 10u32.pow(8 - index as u32);
        }
        rest = &fraction[digits..];
    }
    let offset: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let local = i64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()?;
    let utc = u64::try_from(local - offset).ok()?;
    Some(Duration::new(utc, nanos))
}

/// Formats epoch seconds the way .NET writes a `DateTime` in the invariant culture,
/// `M/d/yyyy h:mm:ss tt` (ARM's expired-token message uses it).
pub(crate) fn dotnet_general(epoch: u64) -> String {
    let (year, month, day) = civil_from_days(epoch / 86_400);
    let seconds = epoch % 86_400;
    let hour = seconds / 3600;
    let (hour12, meridiem) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!(
        "{month}/{day}/{year} {hour12}:{:02}:{:02} {meridiem}",
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date on or after the epoch (Howard
/// Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `YYYY-MM-DD<separator>HH:MM:SSZ` (UTC).
fn format_utc(epoch: u64, separator: char) -> String {
    let days = epoch / 86_400;
    let seconds = epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}{separator}{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm,
/// restricted to dates after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_entra() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc_timestamp(1_452_304_932), "2016-01-09 02:02:12Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(utc_timestamp(4_102_444_799), "2099-12-31 23:59:59Z");
    }

    #[test]
    fn arm_times_have_seven_fractional_digits() {
        assert_eq!(
            rfc3339_ticks(Duration::new(1_452_304_932, 45_678_912)),
            "2016-01-09T02:02:12.0456789Z"
        );
        assert_eq!(
            to_rfc3339_ticks("2026-11-23T07:58:12Z").as_deref(),
            Some("2026-11-23T07:58:12.0000000Z")
        );
        assert_eq!(
            to_rfc3339_ticks("2026-11-23T09:58:12.5+02:00").as_deref(),
            Some("2026-11-23T07:58:12.5000000Z")
        );
        assert_eq!(
            to_rfc3339_ticks("2000-02-29T00:00:00.123456789Z").as_deref(),
            Some("2000-02-29T00:00:00.1234567Z")
        );
        for bad in [
            "yesterday",
            "2026-11-23",
            "2026-11-23T07:58:12",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(to_rfc3339_ticks(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_like_dotnet() {
        assert_eq!(dotnet_general(1_452_304_932), "1/9/2016 2:02:12 AM");
        assert_eq!(dotnet_general(1_452_344_400), "1/9/2016 1:00:00 PM");
        assert_eq!(dotnet_general(1_452_297_600), "1/9/2016 12:00:00 AM");
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(1_452_304_932), "2016-01-09T02:02:12Z");
        assert_eq!(
            rfc3339_millis(Duration::from_millis(1_452_304_932_045)),
            "2016-01-09T02:02:12.045Z"
        );
    }
}
