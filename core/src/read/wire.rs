//! The building blocks of the reader: borrowed strings, objects read member
//! by member, and the quirks of AWS's JSON settled once each: `null` is the
//! same as a missing member, ports arrive as integers, integral floats or
//! strings, protocols as names or numbers, timestamps as ISO-8601 text or
//! epoch seconds, booleans as JSON booleans or the strings `true`/`false`,
//! and some objects as JSON text inside a string.

use super::error::{nested, path_text};
use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A string, borrowed from the input unless it had escapes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str<'de>(pub Cow<'de, str>);

impl Str<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A value read from a JSON object member by member: unknown members are
/// skipped, a member given twice keeps its last value, `null` members are
/// left at their default.
pub trait Members<'de>: Default {
    /// Reads the member `key` (with `map.next_value()`), or returns `false`
    /// to have it skipped.
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;

    /// Checks the whole object once every member is read.
    fn finish<E: de::Error>(self) -> Result<Self, E> {
        Ok(self)
    }
}

/// Reads an object through its [`Members`].
pub struct MembersVisitor<T>(PhantomData<T>);

impl<T> Default for MembersVisitor<T> {
    fn default() -> Self {
        MembersVisitor(PhantomData)
    }
}

impl<'de, T: Members<'de>> Visitor<'de> for MembersVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key::<Str>()? {
            if !out.member(key.as_str(), &mut map)? {
                map.next_value::<IgnoredAny>()?;
            }
        }
        out.finish()
    }
}

/// Implements `Deserialize` for a [`Members`] type.
macro_rules! deserialize_members {
    ({$($bounds:tt)*} $($ty:tt)*) => {
        impl<'de, $($bounds)*> serde::Deserialize<'de> for $($ty)* {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_map($crate::read::wire::MembersVisitor::default())
            }
        }
    };
}
pub(crate) use deserialize_members;

/// Reads the next member value; `null` reads as `None` (AWS omits and nulls
/// interchangeably).
pub fn value<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(
    map: &mut A,
) -> Result<Option<T>, A::Error> {
    map.next_value::<Option<T>>()
}

/// A reader of owned values that works on any deserializer, whatever the
/// input's lifetime: what a JSON text held in a string must be read with.
pub trait Seed: Clone {
    type Value;
    fn read<'de, D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error>;
}

/// The [`Seed`] of an owned `Deserialize` type.
#[derive(Debug)]
pub struct Owned<T>(PhantomData<T>);

impl<T> Clone for Owned<T> {
    fn clone(&self) -> Self {
        Owned(PhantomData)
    }
}

impl<T> Owned<T> {
    pub fn new() -> Self {
        Owned(PhantomData)
    }
}

impl<T: for<'a> Deserialize<'a>> Seed for Owned<T> {
    type Value = T;
    fn read<'de, D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// Runs a [`Seed`] where serde wants a `DeserializeSeed`.
pub struct SeedOf<S>(pub S);

impl<'de, S: Seed> DeserializeSeed<'de> for SeedOf<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.read(deserializer)
    }
}

/// Reads a JSON text held in a string (Config double-encodes
/// `configuration`, `invokingEvent` and query results) with `seed`; an
/// error inside it carries the path within that text.
pub fn from_json_text<S: Seed, E: de::Error>(text: &str, seed: S) -> Result<S::Value, E> {
    let mut plain = serde_json::Deserializer::from_str(text);
    match seed
        .clone()
        .read(&mut plain)
        .and_then(|v| plain.end().map(|()| v))
    {
        Ok(value) => Ok(value),
        Err(e) if !e.is_data() => Err(E::custom(format!(
            "expected JSON text inside this string, but it does not parse: {e}"
        ))),
        Err(e) => {
            // Read it again, tracking the path, to say where.
            let mut tracked = serde_json::Deserializer::from_str(text);
            let mut track = serde_path_to_error::Track::new();
            let result = SeedOf(seed).deserialize(serde_path_to_error::Deserializer::new(
                &mut tracked,
                &mut track,
            ));
            let message = match result {
                Err(tracked) => tracked.to_string(),
                Ok(_) => e.to_string(),
            };
            Err(E::custom(nested(&path_text(&track.path()), &message)))
        }
    }
}

/// A port: an integer, an integral float (`22.0`, from advanced queries) or a
/// string of digits (`"22"`, from CloudFormation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortValue(pub i64);

impl<'de> Deserialize<'de> for PortValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PortValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E>(self, v: i64) -> Result<PortValue, E> {
                Ok(PortValue(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortValue, E> {
                i64::try_from(v)
                    .map(PortValue)
                    .map_err(|_| E::custom(format!("expected an integer, found {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PortValue, E> {
                integer_from_float(v)
                    .map(PortValue)
                    .ok_or_else(|| E::custom(format!("expected an integer, found {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortValue, E> {
                integer_from_text(v).map(PortValue).ok_or_else(|| {
                    E::custom(format!("expected an integer, found the string {v:?}"))
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An integral float (`22.0`).
pub fn integer_from_float(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64)
}

/// A string of decimal digits, optionally negative (`"22"`).
pub fn integer_from_text(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid =
        !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| t.parse::<i64>().ok()).flatten()
}

/// A protocol as written: a name (`tcp`, `-1`) or a number (`6`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolText<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for ProtocolText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProtocolText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a protocol name or number")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ProtocolText(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ProtocolText(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ProtocolText(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ProtocolText(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "expected a protocol name or number, found {v}"
                )))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A timestamp: ISO-8601 text (`2026-11-26T15:06:37.744Z`) or epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Time(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a timestamp (ISO-8601 string or epoch seconds)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Time, E> {
                DateTime::parse_from_rfc3339(s.trim())
                    .map(|t| Time(t.with_timezone(&Utc)))
                    .map_err(|e| {
                        E::custom(format!("expected an ISO-8601 timestamp, found {s:?} ({e})"))
                    })
            }
            fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Time, E> {
                if !(0.0..=253_402_300_799.0).contains(&seconds) {
                    return Err(E::custom(format!(
                        "expected epoch seconds, found {seconds}"
                    )));
                }
                // AWS's epoch times carry milliseconds; a double holds
                // 1414708529.922 as 1414708529.9219999, so round to them.
                let millis = (seconds * 1000.0).round() as i64;
                DateTime::<Utc>::from_timestamp_millis(millis)
                    .map(Time)
                    .ok_or_else(|| E::custom(format!("expected epoch seconds, found {seconds}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Time, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Time, E> {
                self.visit_f64(v as f64)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A boolean, or the strings `true`/`false` in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                if v.eq_ignore_ascii_case("true") {
                    Ok(Flag(true))
                } else if v.eq_ignore_ascii_case("false") {
                    Ok(Flag(false))
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Tags given as a map (`{"Name": "web"}`, a Config item's top level) or as a
/// list of `{key, value}` / `{Key, Value}` objects (a configuration's and
/// EC2's tags, and advanced query rows); a `null` value is the empty string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("tags as an object or a list of {key, value}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(key) = map.next_key::<Str>()? {
                    let value: Option<Str> = map.next_value()?;
                    tags.push((key.0.into_owned(), value.unwrap_or_default().0.into_owned()));
                }
                Ok(Tags(tags))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(tag) = seq.next_element::<Tag>()? {
                    tags.push((tag.key, tag.value));
                }
                Ok(Tags(tags))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One `{key, value}` (or `{Key, Value}`) tag.
#[derive(Default)]
struct Tag {
    key: String,
    value: String,
    has_key: bool,
}

impl<'de> Members<'de> for Tag {
    fn member<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "key" | "Key" => {
                if let Some(k) = value::<_, Str>(map)? {
                    self.key = k.0.into_owned();
                    self.has_key = true;
                }
            }
            "value" | "Value" => {
                self.value = value::<_, Str>(map)?.unwrap_or_default().0.into_owned()
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish<E: de::Error>(self) -> Result<Self, E> {
        if self.has_key {
            Ok(self)
        } else {
            Err(E::custom("key is missing"))
        }
    }
}
deserialize_members!({} Tag);

/// An object, or a string holding the JSON text of one (Config
/// double-encodes `configuration`, `invokingEvent` and query results), read
/// with a [`Seed`].
#[derive(Debug, Clone)]
pub struct Embedded<S>(pub S);

impl<S: Seed> Seed for Embedded<S> {
    type Value = S::Value;
    fn read<'de, D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        deserializer.deserialize_any(EmbeddedVisitor(self.0))
    }
}

struct EmbeddedVisitor<S>(S);

impl<'de, S: Seed> Visitor<'de> for EmbeddedVisitor<S> {
    type Value = S::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S::Value, A::Error> {
        self.0.read(de::value::MapAccessDeserializer::new(map))
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<S::Value, E> {
        from_json_text(text, self.0)
    }
}

/// An object, or the JSON text of one, read as `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedValue<T>(pub T);

impl<'de, T: for<'a> Deserialize<'a>> Deserialize<'de> for EmbeddedValue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Embedded(Owned::<T>::new())
            .read(deserializer)
            .map(EmbeddedValue)
    }
}

/// A `configurationItemStatus`.
pub struct Status(pub crate::model::ItemStatus);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Str::deserialize(deserializer)?;
        crate::model::ItemStatus::parse(text.as_str())
            .map(Status)
            .map_err(de::Error::custom)
    }
}

/// An array whose elements are handed to `each` as they are read (`null` is
/// an empty array): no list is built.
pub struct Each<T, F> {
    each: F,
    element: PhantomData<T>,
}

impl<T, F> Each<T, F> {
    pub fn new(each: F) -> Self {
        Each {
            each,
            element: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for Each<T, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for Each<T, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.each)(element);
        }
        Ok(())
    }
}
