//! Spec text → `serde_norway::Value`, the way `serde_norway::from_str` reads
//! YAML, with two differences that keep the document what its JSON reading
//! is. Integers beyond 64 bits (`maximum: 18446744073709552000`, which public
//! specs write for `u64::MAX` rounded) become floats, as a JSON reader makes
//! them, where `serde_norway::Value` fails the whole document. And JSON text
//! is read through the same visitor, so that a key written twice is an error
//! with its line, as in YAML, where `serde_json::Value` keeps the last one
//! silently (and `openapiv3`, reading the text itself, may panic on it).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde_norway::value::{Tag, TaggedValue};
use serde_norway::{Mapping, Number, Value};

/// Reads YAML text as a value; errors are `serde_norway`'s, with their
/// locations.
pub(crate) fn from_yaml(text: &str) -> Result<Value, serde_norway::Error> {
    serde_norway::from_str::<Wide>(text).map(|wide| wide.0)
}

/// Reads JSON text as a value, keys in the order written; errors are
/// `serde_json`'s, with their lines.
pub(crate) fn from_json(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Wide>(text).map(|wide| wide.0)
}

/// A value whose integers may be wider than 64 bits.
struct Wide(Value);

impl<'de> Deserialize<'de> for Wide {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WideVisitor)
    }
}

struct WideVisitor;

impl<'de> Visitor<'de> for WideVisitor {
    type Value = Wide;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Wide, E> {
        Ok(Wide(Value::Bool(b)))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Wide, E> {
        Ok(Wide(Value::Number(i.into())))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Wide, E> {
        Ok(Wide(Value::Number(u.into())))
    }

    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Wide, E> {
        Ok(Wide(Value::Number(match i64::try_from(i) {
            Ok(i) => i.into(),
            Err(_) => Number::from(i as f64),
        })))
    }

    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Wide, E> {
        Ok(Wide(Value::Number(match u64::try_from(u) {
            Ok(u) => u.into(),
            Err(_) => Number::from(u as f64),
        })))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Wide, E> {
        Ok(Wide(Value::Number(f.into())))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Wide, E> {
        Ok(Wide(Value::String(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Wide, E> {
        Ok(Wide(Value::String(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Wide, E> {
        Ok(Wide(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Wide, E> {
        Ok(Wide(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Wide, D::Error> {
        Wide::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Wide, A::Error> {
        let mut sequence = Vec::with_capacity(items.size_hint().unwrap_or(0));
        while let Some(Wide(item)) = items.next_element()? {
            sequence.push(item);
        }
        Ok(Wide(Value::Sequence(sequence)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Wide, A::Error> {
        let mut mapping = Mapping::new();
        while let Some(Wide(key)) = entries.next_key()? {
            if mapping.contains_key(&key) {
                // As `serde_norway` says it.
                let key = match &key {
                    Value::Null => "with null key".to_owned(),
                    Value::Bool(b) => format!("with key `{b}`"),
                    Value::Number(n) => format!("with key {n}"),
                    Value::String(s) => format!("with key {s:?}"),
                    _ => "in YAML map".to_owned(),
                };
                return Err(de::Error::custom(format!("duplicate entry {key}")));
            }
            let Wide(value) = entries.next_value()?;
            mapping.insert(key, value);
        }
        Ok(Wide(Value::Mapping(mapping)))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, tagged: A) -> Result<Wide, A::Error> {
        let (tag, contents) = tagged.variant::<String>()?;
        let Wide(value) = contents.newtype_variant()?;
        Ok(Wide(Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(tag),
            value,
        }))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_norway_reads() {
        let text = "a: [1, -2, 2.5, .inf, true, ~, 'x', !t {b: c}]\n'1': one\n2: two\n";
        assert_eq!(
            from_yaml(text).expect("wide"),
            serde_norway::from_str::<Value>(text).expect("narrow")
        );
    }

    #[test]
    fn integers_beyond_64_bits_become_floats() {
        let value = from_yaml("max: 18446744073709552000\nmin: -9223372036854775809\n")
            .expect("wide integers");
        assert_eq!(value["max"].as_f64(), Some(18446744073709552000.0));
        assert_eq!(value["min"].as_f64(), Some(-9223372036854775809.0));
        assert!(serde_norway::from_str::<Value>("max: 18446744073709552000").is_err());
    }

    #[test]
    fn duplicate_keys_are_errors_as_serde_norway_says_them() {
        let narrow = serde_norway::from_str::<Value>("a: 1\nb: 2\na: 3\n").expect_err("dup");
        let wide = from_yaml("a: 1\nb: 2\na: 3\n").expect_err("dup");
        assert_eq!(wide.to_string(), narrow.to_string());
        assert_eq!(
            wide.location().map(|l| l.line()),
            narrow.location().map(|l| l.line())
        );
    }

    #[test]
    fn json_is_read_in_order_and_refuses_a_key_written_twice() {
        let value = from_json(
            r#"{"b": 1, "a": [true, null, 2.5, "\ud83d\udc4d"], "big": 18446744073709552000}"#,
        )
        .expect("json");
        let keys: Vec<_> = value.as_mapping().expect("map").keys().collect();
        assert_eq!(keys, ["b", "a", "big"]);
        assert_eq!(value["a"][3], Value::String("\u{1f44d}".to_owned()));
        assert_eq!(value["big"].as_f64(), Some(18446744073709552000.0));
        let error = from_json("{\n\"a\": 1,\n\"a\": 2}").expect_err("a key twice");
        assert_eq!(error.line(), 3);
        assert!(
            error
                .to_string()
                .starts_with("duplicate entry with key \"a\""),
            "{error}"
        );
    }
}
