//! Go-style duration strings (`30s`, `1h30m`, `1.5h`) as written in policies, validated by the
//! CRD schema's pattern and parsed here.

use std::time::Duration;

/// What the CRD schema accepts: one or more `<number><unit>` groups, units `ms`, `s`, `m`, `h`.
/// Narrower than Go's `time.ParseDuration` (no sign, no `us`/`ns`) on purpose: intervals and
/// grace periods below a millisecond or negative make no sense here.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    #[error("invalid duration {0:?}: expected groups like 30s, 5m, 1h30m, 1.5h or 250ms")]
    Syntax(String),
    #[error("duration {0:?} is too long")]
    Overflow(String),
}

/// Parses a duration matching [`DURATION_PATTERN`].
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let syntax = || DurationError::Syntax(text.to_owned());
    if text.is_empty() {
        return Err(syntax());
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(syntax)?;
        let number = &rest[..number_len];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            return Err(syntax());
        }
        if number.matches('.').count() > 1 {
            return Err(syntax());
        }
        let value: f64 = number.parse().map_err(|_| syntax())?;
        rest = &rest[number_len..];
        // `ms` before `m`: the longer unit must win.
        let (seconds, unit_len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else {
            return Err(syntax());
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| DurationError::Overflow(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1m1ms"), Ok(Duration::from_millis(60_001)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_what_the_schema_pattern_rejects() {
        for bad in [
            "", "5", "s", "-5m", "1d", "5 m", "1.m", ".5h", "1..5h", "1h-", "5us",
        ] {
            assert!(
                matches!(parse(bad), Err(DurationError::Syntax(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let huge = format!("{}h", "9".repeat(400));
        assert!(parse(&huge).is_err());
    }
}
