//! Wall-clock helpers: epoch seconds, RFC 3339 timestamps and Entra's `2016-01-09 02:02:12Z`.

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
    fn formats_rfc3339() {
        assert_eq!(rfc3339(1_452_304_932), "2016-01-09T02:02:12Z");
        assert_eq!(
            rfc3339_millis(Duration::from_millis(1_452_304_932_045)),
            "2016-01-09T02:02:12.045Z"
        );
    }
}
