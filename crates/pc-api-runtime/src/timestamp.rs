//! [`Timestamp`]: a lenient `date-time` that never fails the page it is in.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// A `date-time` value as the service sent it.
///
/// Partner Center sends RFC 3339 UTC times with 0 to 7 fractional digits
/// (`2017-01-20T00:33:34Z`, `2020-09-02T23:26:19.7753934Z`). A `Timestamp`
/// keeps the text exactly, so a value the client cannot parse never makes the
/// rest of a page unreadable: [`to_utc`](Timestamp::to_utc) returns `None`
/// for it instead.
///
/// ```
/// let t = pc_api_runtime::Timestamp::from("2020-09-02T23:26:19.7753934Z");
/// assert_eq!(t.to_utc().unwrap().timestamp_subsec_nanos(), 775_393_400);
/// assert!(pc_api_runtime::Timestamp::from("yesterday").to_utc().is_none());
/// ```
///
/// Timestamps order by the instant they name, when both parse (`…19Z` before
/// `…19.7753934Z`, `23:26:19+02:00` before `22:26:19Z`); the text breaks
/// ties between two spellings of one instant and orders the ones that do
/// not parse, which come after those that do. Equality and hashing are of
/// the text, so `a == b` exactly when `a.cmp(&b)` is `Equal`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    raw: String,
}

impl Timestamp {
    /// The text as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The time in UTC: RFC 3339 with any number of fractional digits and any
    /// offset, or an ISO 8601 date-time without offset, read as UTC. `None`
    /// when the text is neither.
    pub fn to_utc(&self) -> Option<DateTime<Utc>> {
        if let Ok(time) = DateTime::parse_from_rfc3339(&self.raw) {
            return Some(time.with_timezone(&Utc));
        }
        NaiveDateTime::parse_from_str(&self.raw, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|naive| naive.and_utc())
    }

    /// Whether [`to_utc`](Timestamp::to_utc) can read the text.
    pub fn is_valid(&self) -> bool {
        self.to_utc().is_some()
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.to_utc(), other.to_utc()) {
            (Some(a), Some(b)) => a.cmp(&b).then_with(|| self.raw.cmp(&other.raw)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.raw.cmp(&other.raw),
        }
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({:?})", self.raw)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl From<&str> for Timestamp {
    fn from(raw: &str) -> Self {
        Timestamp {
            raw: raw.to_owned(),
        }
    }
}

impl From<String> for Timestamp {
    fn from(raw: String) -> Self {
        Timestamp { raw }
    }
}

impl From<DateTime<Utc>> for Timestamp {
    /// Formats as RFC 3339 in UTC with `Z`, with as many fractional digits as needed.
    fn from(time: DateTime<Utc>) -> Self {
        Timestamp {
            raw: time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

/// Accepts a string, or keeps the text of a number or boolean (which
/// [`Timestamp::to_utc`] then rejects), so that one odd value does not fail
/// the whole page. Objects and arrays are skipped and kept as empty text.
struct TimestampVisitor;

impl<'de> serde::de::Visitor<'de> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date-time string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
        Ok(Timestamp::from(v))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Timestamp, E> {
        Ok(Timestamp::from(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Ok(Timestamp::from(v.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
        Ok(Timestamp::from(v.to_string()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Timestamp, E> {
        Ok(Timestamp::from(v.to_string()))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Timestamp, E> {
        Ok(Timestamp::from(v.to_string()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Timestamp, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Timestamp::from(""))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Timestamp, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Timestamp::from(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Option<&str>) {
        let parsed = Timestamp::from(raw)
            .to_utc()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, true));
        assert_eq!(parsed.as_deref(), expected, "{raw}");
    }

    #[test]
    fn no_fraction() {
        check(
            "2017-01-20T00:33:34Z",
            Some("2017-01-20T00:33:34.000000000Z"),
        );
    }

    #[test]
    fn seven_fractional_digits() {
        check(
            "2020-09-02T23:26:19.7753934Z",
            Some("2020-09-02T23:26:19.775393400Z"),
        );
    }

    #[test]
    fn offset() {
        check(
            "2020-09-02T23:26:19.1+02:00",
            Some("2020-09-02T21:26:19.100000000Z"),
        );
    }

    #[test]
    fn no_offset_is_utc() {
        check(
            "2020-09-02T23:26:19.12",
            Some("2020-09-02T23:26:19.120000000Z"),
        );
    }

    #[test]
    fn order_is_by_instant_then_text() {
        let sorted: Vec<Timestamp> = [
            "2020-09-02T21:26:19Z",
            "2020-09-02T23:26:19+02:00",
            "2020-09-02T22:26:19.5Z",
            "2020-09-02T23:26:19Z",
            "2020-09-02T23:26:19.7753934Z",
            "",
            "not a date",
        ]
        .into_iter()
        .map(Timestamp::from)
        .collect();
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        shuffled.sort();
        assert_eq!(shuffled, sorted);
        let a = Timestamp::from("2020-09-02T21:26:19Z");
        let b = Timestamp::from("2020-09-02T21:26:19.000Z");
        assert_ne!(a.cmp(&b), Ordering::Equal, "same instant, other text");
        assert_ne!(a, b);
    }

    #[test]
    fn malformed() {
        check("not a date", None);
        check("", None);
        check("2020-13-02T23:26:19Z", None);
    }
}
