//! What generated code calls, and nothing else does: building requests,
//! sending them, decoding error bodies, starting listings, the serde helpers
//! of generated models and the impls of their enums. Not a public API: it
//! changes with the generator, which is released with this crate.

use progenitor_client::ResponseValue;
use serde::de::DeserializeOwned;

pub use reqwest::{Method, Url};
pub use serde;
pub use serde_json;

pub use crate::client::ApiClient;
use crate::client::ClientCore;
use crate::error::{ApiErrorBody, Error, NoBody};
pub use crate::paging::{NextRequest, PagingRules, resolve_next};
use crate::pipeline;
pub use crate::pipeline::body::{decode_error_body, error_body_text};
pub use crate::pipeline::request::{Request, to_json};

/// The error of building a request from its arguments (nothing was sent).
pub type RequestError = Error<NoBody>;

/// Sends `request` and decodes a 2xx JSON body as `T`; a non-2xx status is
/// an error whose body `decode_error` decodes.
pub async fn send_json<T: DeserializeOwned, B: ApiErrorBody>(
    core: &ClientCore,
    request: Result<Request, Error>,
    decode_error: fn(u16, &[u8]) -> B,
) -> Result<ResponseValue<T>, Error<B>> {
    let (response, operation_id) = send_raw(core, request, decode_error).await?;
    decoded(response, operation_id)
}

/// Sends `request` and decodes a 2xx JSON body as `T`, or `None` when the
/// body is empty: for operations where some success responses have a body
/// and others (a 204) none.
pub async fn send_json_optional<T: DeserializeOwned, B: ApiErrorBody>(
    core: &ClientCore,
    request: Result<Request, Error>,
    decode_error: fn(u16, &[u8]) -> B,
) -> Result<ResponseValue<Option<T>>, Error<B>> {
    let (response, operation_id) = send_raw(core, request, decode_error).await?;
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ResponseValue::new(None, response.status, response.headers));
    }
    decoded::<Option<T>, B>(response, operation_id)
}

/// Sends `request` and ignores a 2xx body: for operations whose success
/// responses declare none.
pub async fn send_empty<B: ApiErrorBody>(
    core: &ClientCore,
    request: Result<Request, Error>,
    decode_error: fn(u16, &[u8]) -> B,
) -> Result<ResponseValue<()>, Error<B>> {
    let (response, _) = send_raw(core, request, decode_error).await?;
    Ok(ResponseValue::new((), response.status, response.headers))
}

/// Sends `request` and returns a 2xx body as text (invalid UTF-8 replaced).
pub async fn send_text<B: ApiErrorBody>(
    core: &ClientCore,
    request: Result<Request, Error>,
    decode_error: fn(u16, &[u8]) -> B,
) -> Result<ResponseValue<String>, Error<B>> {
    let (response, _) = send_raw(core, request, decode_error).await?;
    let text = String::from_utf8_lossy(&response.body).into_owned();
    Ok(ResponseValue::new(text, response.status, response.headers))
}

/// Sends `request` and returns a 2xx body as bytes.
pub async fn send_bytes<B: ApiErrorBody>(
    core: &ClientCore,
    request: Result<Request, Error>,
    decode_error: fn(u16, &[u8]) -> B,
) -> Result<ResponseValue<Vec<u8>>, Error<B>> {
    let (response, _) = send_raw(core, request, decode_error).await?;
    Ok(ResponseValue::new(
        response.body.to_vec(),
        response.status,
        response.headers,
    ))
}

/// The pipeline's 2xx response to `request`, and its operation.
async fn send_raw<B: ApiErrorBody>(
    core: &ClientCore,
    request: Result<Request, Error>,
    decode_error: fn(u16, &[u8]) -> B,
) -> Result<(pipeline::Response, &'static str), Error<B>> {
    let decode = move |status: u16, body: &[u8]| -> Box<dyn ApiErrorBody> {
        Box::new(decode_error(status, body))
    };
    let request = request.map_err(Error::retype::<B>)?;
    let operation_id = request.operation_id;
    let response = pipeline::send(core, request, &decode)
        .await
        .map_err(Error::retype::<B>)?;
    Ok((response, operation_id))
}

/// A 2xx body decoded as `T`; a body that is not is an error with the
/// response's status, headers and ids.
fn decoded<T: DeserializeOwned, B: ApiErrorBody>(
    response: pipeline::Response,
    operation_id: &'static str,
) -> Result<ResponseValue<T>, Error<B>> {
    match crate::pipeline::body::decode::<T>(&response.body) {
        Ok(value) => Ok(ResponseValue::new(value, response.status, response.headers)),
        Err(error) => Err(error
            .with_operation(operation_id)
            .with_ids(&response.request_id, &response.correlation_id)
            .with_response(response.status, response.headers)
            .retype()),
    }
}

/// Serde helpers the generated models name in `#[serde(...)]` attributes.
pub mod de {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, Error, Visitor};

    /// `null` becomes the default value (an empty `Vec` or map).
    pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Default + Deserialize<'de>,
    {
        Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
    }

    /// The discriminator of a tagged union: the string at `path` of
    /// property names, if there is one.
    pub fn tag<'v>(value: &'v serde_json::Value, path: &[&str]) -> Option<&'v str> {
        let mut node = value;
        for key in path {
            node = node.get(key)?;
        }
        node.as_str()
    }

    /// A variant of a tagged union, decoded from the value its tag chose.
    pub fn variant<T: serde::de::DeserializeOwned, E: Error>(
        value: serde_json::Value,
    ) -> Result<T, E> {
        serde_json::from_value(value).map_err(E::custom)
    }

    /// A variant of a tagged union, serialised with its tag at `path` when
    /// the variant's own fields leave it absent, `null` or empty (a variant
    /// built with `..Default::default()`).
    pub fn tagged<T: serde::Serialize, S: serde::Serializer>(
        value: &T,
        path: &[&str],
        tag: &str,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut json = serde_json::to_value(value).map_err(serde::ser::Error::custom)?;
        if self::tag(&json, path).is_none_or(str::is_empty) {
            if let Some((leaf, parents)) = path.split_last()
                && let Some(serde_json::Value::Object(map)) = parents
                    .iter()
                    .try_fold(&mut json, |node, key| node.get_mut(*key))
            {
                map.insert((*leaf).to_owned(), serde_json::Value::from(tag));
            } else {
                crate::pipeline::request::set_if_absent(&mut json, path, tag);
            }
        }
        serde::Serialize::serialize(&json, serializer)
    }

    /// An open enum: a known value, or the string kept as unknown.
    pub fn open_enum<'de, D, T>(
        deserializer: D,
        known: fn(&str) -> Option<T>,
        unknown: fn(String) -> T,
    ) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_str(OpenEnum {
            known,
            unknown,
            marker: PhantomData,
        })
    }

    struct OpenEnum<T> {
        known: fn(&str) -> Option<T>,
        unknown: fn(String) -> T,
        marker: PhantomData<T>,
    }

    impl<T> Visitor<'_> for OpenEnum<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: Error>(self, value: &str) -> Result<T, E> {
            Ok((self.known)(value).unwrap_or_else(|| (self.unknown)(value.to_owned())))
        }

        fn visit_string<E: Error>(self, value: String) -> Result<T, E> {
            match (self.known)(&value) {
                Some(known) => Ok(known),
                None => Ok((self.unknown)(value)),
            }
        }
    }

    /// A closed enum: only the listed values.
    pub fn closed_enum<'de, D, T>(
        deserializer: D,
        known: fn(&str) -> Option<T>,
        name: &'static str,
        values: &'static [&'static str],
    ) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_str(ClosedEnum {
            known,
            name,
            values,
        })
    }

    struct ClosedEnum<T> {
        known: fn(&str) -> Option<T>,
        name: &'static str,
        values: &'static [&'static str],
    }

    impl<T> Visitor<'_> for ClosedEnum<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} (one of {})", self.name, self.values.join(", "))
        }

        fn visit_str<E: Error>(self, value: &str) -> Result<T, E> {
            (self.known)(value).ok_or_else(|| E::unknown_variant(value, self.values))
        }
    }
}

/// The serde impls of a generated tagged union: decoded by the string at a
/// path of property names (its discriminator), a tag nobody listed (or no
/// tag) kept as JSON in the `unknown` variant; each variant serialised with
/// its first tag when its fields do not set one.
#[macro_export]
#[doc(hidden)]
macro_rules! tagged_union {
    ($name:ident $path:tt { $($first:literal $(| $tag:literal)* => $variant:ident),* $(,)? } unknown $unknown:ident) => {
        impl<'de> $crate::__codegen::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__codegen::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let value = <$crate::__codegen::serde_json::Value as $crate::__codegen::serde::Deserialize>::deserialize(deserializer)?;
                match $crate::__codegen::de::tag(&value, &$path) {
                    $(::std::option::Option::Some($first $(| $tag)*) => $crate::__codegen::de::variant(value).map(Self::$variant),)*
                    _ => ::std::result::Result::Ok(Self::$unknown(value)),
                }
            }
        }

        impl $crate::__codegen::serde::Serialize for $name {
            fn serialize<S: $crate::__codegen::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    $(Self::$variant(value) => $crate::__codegen::de::tagged(value, &$path, $first, serializer),)*
                    Self::$unknown(value) => $crate::__codegen::serde::Serialize::serialize(value, serializer),
                }
            }
        }
    };
}

/// The impls of a generated open string enum: `VALUES`, `as_str`,
/// `is_unknown`, `From<&str>`, `From<String>`, `FromStr` (infallible),
/// `Display`, and serde as the wire string, an unknown value kept in the
/// `unknown` variant.
#[macro_export]
#[doc(hidden)]
macro_rules! open_enum {
    ($name:ident { $($variant:ident = $wire:literal),* $(,)? } unknown $unknown:ident) => {
        impl $name {
            /// Every value the spec lists, as sent on the wire.
            pub const VALUES: &'static [&'static str] = &[$($wire),*];

            #[inline]
            fn from_known(value: &str) -> ::std::option::Option<Self> {
                match value {
                    $($wire => ::std::option::Option::Some(Self::$variant),)*
                    _ => ::std::option::Option::None,
                }
            }

            /// The value as sent on the wire.
            #[inline]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::$unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value the spec does not list.
            #[inline]
            pub fn is_unknown(&self) -> bool {
                ::std::matches!(self, Self::$unknown(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            #[inline]
            fn from(value: &str) -> Self {
                Self::from_known(value).unwrap_or_else(|| Self::$unknown(value.to_owned()))
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            #[inline]
            fn from(value: ::std::string::String) -> Self {
                Self::from_known(&value).unwrap_or(Self::$unknown(value))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            #[inline]
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                ::std::result::Result::Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            #[inline]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__codegen::serde::Serialize for $name {
            #[inline]
            fn serialize<S: $crate::__codegen::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__codegen::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__codegen::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::__codegen::de::open_enum(deserializer, Self::from_known, Self::$unknown)
            }
        }
    };
}

/// The impls of a generated closed string enum (`x-enum-closed: true`):
/// `VALUES`, `as_str`, `FromStr` (refusing other values), `Display`, and
/// serde as the wire string.
#[macro_export]
#[doc(hidden)]
macro_rules! closed_enum {
    ($name:ident { $($variant:ident = $wire:literal),* $(,)? }) => {
        impl $name {
            /// Every value the spec lists, as sent on the wire.
            pub const VALUES: &'static [&'static str] = &[$($wire),*];

            #[inline]
            fn from_known(value: &str) -> ::std::option::Option<Self> {
                match value {
                    $($wire => ::std::option::Option::Some(Self::$variant),)*
                    _ => ::std::option::Option::None,
                }
            }

            /// The value as sent on the wire.
            #[inline]
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ParseEnumError;

            #[inline]
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::from_known(value).ok_or_else(|| {
                    $crate::ParseEnumError::new(::std::stringify!($name), value, Self::VALUES)
                })
            }
        }

        impl ::std::fmt::Display for $name {
            #[inline]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__codegen::serde::Serialize for $name {
            #[inline]
            fn serialize<S: $crate::__codegen::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__codegen::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__codegen::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::__codegen::de::closed_enum(
                    deserializer,
                    Self::from_known,
                    ::std::stringify!($name),
                    Self::VALUES,
                )
            }
        }
    };
}

pub use crate::{closed_enum, open_enum};
