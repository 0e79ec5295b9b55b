//! Go durations: `time.ParseDuration` and `Duration.String()`, bit for bit, plus the SSH
//! `checkPeriod` rules built on them.

use std::fmt;
use std::str::FromStr;

/// A Go `time.Duration`: signed nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GoDuration(i64);

impl GoDuration {
    pub const ZERO: GoDuration = GoDuration(0);
    pub const NANOSECOND: GoDuration = GoDuration(1);
    pub const MICROSECOND: GoDuration = GoDuration(1_000);
    pub const MILLISECOND: GoDuration = GoDuration(1_000_000);
    pub const SECOND: GoDuration = GoDuration(1_000_000_000);
    pub const MINUTE: GoDuration = GoDuration(60 * 1_000_000_000);
    pub const HOUR: GoDuration = GoDuration(3600 * 1_000_000_000);

    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Parses as Go's `time.ParseDuration`.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        parse_go_duration(s)
    }
}

/// A string `time.ParseDuration` rejects, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    #[error("time: invalid duration {}", time_quote(.0))]
    Invalid(String),
    #[error("time: missing unit in duration {}", time_quote(.0))]
    MissingUnit(String),
    #[error(
        "time: unknown unit {} in duration {}",
        time_quote(unit),
        time_quote(input)
    )]
    UnknownUnit { unit: String, input: String },
}

/// Go's `time` package quoting: `"` and `\` escaped, bytes below 0x20 and every byte of a
/// non-ASCII character written `\xHH`.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7f => out.push(char::from(b)),
            _ => {
                out.push_str("\\x");
                out.push(hex_digit(b >> 4));
                out.push(hex_digit(b & 0xf));
            }
        }
    }
    out.push('"');
    out
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n), 16).unwrap_or('?')
}

const LIMIT: u64 = 1 << 63;

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Consumes leading ASCII digits; `None` on overflow past 2^63.
fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    let mut x: u64 = 0;
    for b in digits.bytes() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(b - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, rest))
}

/// Consumes leading ASCII digits of a fraction, keeping as much precision as fits.
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    let mut x: u64 = 0;
    let mut scale = 1.0_f64;
    let mut overflow = false;
    for b in digits.bytes() {
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(b - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, rest)
}

/// Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units `ns`, `us` (`µs`,
/// `μs`), `ms`, `s`, `m`, `h`; a bare `0` is allowed.
pub fn parse_go_duration(input: &str) -> Result<GoDuration, DurationError> {
    let invalid = || DurationError::Invalid(input.to_owned());
    let mut s = input;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(GoDuration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();

        let mut f = 0;
        let mut scale = 1.0;
        let mut post = false;
        if let Some(rest) = s.strip_prefix('.') {
            let before = rest.len();
            let (ff, sc, rest) = leading_fraction(rest);
            f = ff;
            scale = sc;
            post = before != rest.len();
            s = rest;
        }
        if !pre && !post {
            return Err(invalid());
        }

        let unit_end = s
            .bytes()
            .position(|b| b == b'.' || b.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_end == 0 {
            return Err(DurationError::MissingUnit(input.to_owned()));
        }
        // `unit_end` is at an ASCII byte or the end, so a char boundary.
        let (unit, rest) = s.split_at(unit_end);
        s = rest;
        let unit_ns = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: unit.to_owned(),
            input: input.to_owned(),
        })?;
        if v > LIMIT / unit_ns {
            return Err(invalid());
        }
        v *= unit_ns;
        if f > 0 {
            // As Go: float64 is accurate enough for fractions of the largest unit.
            let frac = (f as f64 * (unit_ns as f64 / scale)) as u64;
            v = v.checked_add(frac).ok_or_else(invalid)?;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // total <= 2^63, so -total fits in i64.
        return Ok(GoDuration(0_i64.wrapping_sub_unsigned(total)));
    }
    i64::try_from(total).map(GoDuration).map_err(|_| invalid())
}

/// [`parse_go_duration`] giving nanoseconds as an `i128` (always within `i64`).
pub fn parse_duration(s: &str) -> Result<i128, DurationError> {
    parse_go_duration(s).map(|d| i128::from(d.as_nanos()))
}

impl FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, DurationError> {
        parse_go_duration(s)
    }
}

/// Writes the fraction `v / 10^prec` without trailing zeros (and without the point when it
/// is zero) to the front of `buf`, returning `v / 10^prec`.
fn fmt_frac(buf: &mut Vec<u8>, mut v: u64, prec: u32) -> u64 {
    let mut print = false;
    for _ in 0..prec {
        let digit = (v % 10) as u8;
        print = print || digit != 0;
        if print {
            buf.push(b'0' + digit);
        }
        v /= 10;
    }
    if print {
        buf.push(b'.');
    }
    v
}

fn fmt_int(buf: &mut Vec<u8>, mut v: u64) {
    if v == 0 {
        buf.push(b'0');
        return;
    }
    while v > 0 {
        buf.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
}

/// Formats as Go's `Duration.String()`: `72h3m0.5s`, `1.5s`, `200ms`, `1µs`, `0s`, `-1m0s`.
// In `u64` arithmetic (|i64::MIN| fits): no 128-bit division in the WASM module.
pub fn format_go_duration(d: GoDuration) -> String {
    // Built back to front, then reversed.
    let mut buf: Vec<u8> = Vec::with_capacity(48);
    let neg = d.0 < 0;
    let mut u = d.0.unsigned_abs();
    if u < 1_000_000_000 {
        buf.push(b's');
        let prec = if u == 0 {
            return "0s".to_owned();
        } else if u < 1_000 {
            buf.push(b'n');
            0
        } else if u < 1_000_000 {
            // U+00B5 MICRO SIGN, reversed byte order.
            buf.extend_from_slice(&[0xb5, 0xc2]);
            3
        } else {
            buf.push(b'm');
            6
        };
        u = fmt_frac(&mut buf, u, prec);
        fmt_int(&mut buf, u);
    } else {
        buf.push(b's');
        u = fmt_frac(&mut buf, u, 9);
        fmt_int(&mut buf, u % 60);
        u /= 60;
        if u > 0 {
            buf.push(b'm');
            fmt_int(&mut buf, u % 60);
            u /= 60;
            if u > 0 {
                buf.push(b'h');
                fmt_int(&mut buf, u);
            }
        }
    }
    if neg {
        buf.push(b'-');
    }
    buf.reverse();
    String::from_utf8(buf).unwrap_or_default()
}

/// [`format_go_duration`] for nanoseconds held in an `i128`. Values beyond Go's `i64` range
/// are formatted by the same rules (they are at least 2^63 ns, so hours, minutes and
/// seconds are all written).
pub fn format_duration(nanos: i128) -> String {
    if let Ok(n) = i64::try_from(nanos) {
        return format_go_duration(GoDuration(n));
    }
    let u = nanos.unsigned_abs();
    let mut frac = Vec::new();
    fmt_frac(&mut frac, (u % 1_000_000_000) as u64, 9);
    frac.reverse();
    let secs = u / 1_000_000_000;
    format!(
        "{}{}h{}m{}{}s",
        if nanos < 0 { "-" } else { "" },
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        String::from_utf8_lossy(&frac)
    )
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_go_duration(*self))
    }
}

/// An SSH `checkPeriod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckPeriod {
    /// `"always"`: check on every connection.
    Always,
    Every(GoDuration),
}

/// The `checkPeriod` when none is given.
pub const DEFAULT_CHECK_PERIOD: GoDuration = GoDuration(12 * 3600 * 1_000_000_000);
/// The largest accepted `checkPeriod`.
pub const MAX_CHECK_PERIOD: GoDuration = GoDuration(168 * 3600 * 1_000_000_000);

/// A `checkPeriod` the control server rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckPeriodError {
    #[error(transparent)]
    Parse(#[from] DurationError),
    #[error("checkPeriod {0} must be a positive duration")]
    Negative(GoDuration),
    #[error("checkPeriod {0} is above the max (168h)")]
    AboveMax(GoDuration),
}

/// Parses an SSH `checkPeriod`: `always`, or a Go duration from 0 to 168h inclusive.
pub fn parse_check_period(s: &str) -> Result<CheckPeriod, CheckPeriodError> {
    if s == "always" {
        return Ok(CheckPeriod::Always);
    }
    let d = parse_go_duration(s)?;
    if d < GoDuration::ZERO {
        Err(CheckPeriodError::Negative(d))
    } else if d > MAX_CHECK_PERIOD {
        Err(CheckPeriodError::AboveMax(d))
    } else {
        Ok(CheckPeriod::Every(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> i64 {
        parse_go_duration(s).unwrap().as_nanos()
    }

    fn err(s: &str) -> String {
        parse_go_duration(s).unwrap_err().to_string()
    }

    fn fmt(n: i64) -> String {
        GoDuration::from_nanos(n).to_string()
    }

    // Cases from Go's time/time_test.go parseDurationTests.
    #[test]
    fn parse_ok() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("-5s", -5_000_000_000),
            ("+5s", 5_000_000_000),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.0s", 1_000_000_000),
            ("1.00s", 1_000_000_000),
            ("1.004s", 1_004_000_000),
            ("1.0040s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12µs", 12_000),
            ("12μs", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("-2m3.4s", -123_400_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("9223372036s854ms775us807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-9223372036854775.808us", i64::MIN),
            ("-9223372036s854ms775us808ns", i64::MIN),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("0.100000000000000000000h", 360_000_000_000),
            ("0.830103483285477580700h", 2_988_372_539_827),
            ("168h", 604_800_000_000_000),
        ];
        for &(s, want) in cases {
            assert_eq!(ns(s), want, "{s}");
        }
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "\u{85}",
            "\u{ffff}",
            "hello \u{ffff} world",
            "9223372036854775808ns",
            "9223372036854775.808us",
            "9223372036854ms775us808ns",
            "-9223372036854775809ns",
            "1.5.5s",
            "1 s",
            "s1",
        ] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(err("abc"), r#"time: invalid duration "abc""#);
        assert_eq!(err(""), r#"time: invalid duration """#);
        assert_eq!(err("3"), r#"time: missing unit in duration "3""#);
        assert_eq!(err("1d"), r#"time: unknown unit "d" in duration "1d""#);
        assert_eq!(err("1h "), r#"time: unknown unit "h " in duration "1h ""#);
        assert_eq!(err("\"x\\"), r#"time: invalid duration "\"x\\""#);
        assert_eq!(
            err("1é"),
            r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#
        );
        assert_eq!(err("\t1s"), r#"time: invalid duration "\x091s""#);
    }

    // Cases from Go's time/time_test.go durationTests.
    #[test]
    fn format() {
        let cases: &[(&str, i64)] = &[
            ("0s", 0),
            ("1ns", 1),
            ("1.1µs", 1_100),
            ("2.2ms", 2_200_000),
            ("3.3s", 3_300_000_000),
            ("4m5s", 245_000_000_000),
            ("4m5.001s", 245_001_000_000),
            ("5h6m7.001s", 18_367_001_000_000),
            ("8m0.000000001s", 480_000_000_001),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("168h0m1s", 604_801_000_000_000),
            ("-1m0s", -60_000_000_000),
            ("1.5s", 1_500_000_000),
            ("200ms", 200_000_000),
            ("-1ns", -1),
            ("1h0m0s", 3_600_000_000_000),
        ];
        for &(want, n) in cases {
            assert_eq!(fmt(n), want, "{n}");
        }
    }

    #[test]
    fn i128_helpers() {
        assert_eq!(parse_duration("168h0m1s"), Ok(604_801_000_000_000));
        assert_eq!(format_duration(604_801_000_000_000), "168h0m1s");
        assert_eq!(format_duration(-60_000_000_000), "-1m0s");
        assert_eq!(
            format_duration(i128::from(i64::MIN)),
            "-2562047h47m16.854775808s"
        );
        assert_eq!(
            format_duration(i128::from(i64::MAX) + 1),
            "2562047h47m16.854775808s"
        );
        assert!(format_duration(i128::MIN).starts_with('-'));
        assert!(format_duration(i128::MAX).ends_with('s'));
    }

    #[test]
    fn round_trip() {
        for n in [
            0,
            1,
            -1,
            999,
            1_000,
            59_999_999_999,
            3_723_004_005_006,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(ns(&fmt(n)), n);
        }
    }

    #[test]
    fn check_periods() {
        assert_eq!(parse_check_period("always"), Ok(CheckPeriod::Always));
        assert_eq!(
            parse_check_period("168h"),
            Ok(CheckPeriod::Every(MAX_CHECK_PERIOD))
        );
        assert_eq!(
            parse_check_period("0s"),
            Ok(CheckPeriod::Every(GoDuration::ZERO))
        );
        assert_eq!(
            parse_check_period("30s"),
            Ok(CheckPeriod::Every(GoDuration::from_nanos(30_000_000_000)))
        );
        let msg = |s: &str| parse_check_period(s).unwrap_err().to_string();
        assert_eq!(msg("abc"), r#"time: invalid duration "abc""#);
        assert_eq!(msg("-1m"), "checkPeriod -1m0s must be a positive duration");
        assert_eq!(
            msg("168h0m1s"),
            "checkPeriod 168h0m1s is above the max (168h)"
        );
        assert_eq!(msg("200h"), "checkPeriod 200h0m0s is above the max (168h)");
        assert_eq!(DEFAULT_CHECK_PERIOD.to_string(), "12h0m0s");
    }
}
