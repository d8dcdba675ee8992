//! [`Secret`]: a string that never shows itself in `Debug` output or logs.

use std::fmt;

/// A secret string: a bearer token, a password or a continuation token.
///
/// `Debug` prints `Secret("[redacted]")` and there is no `Display`, so a
/// secret cannot reach a log by accident; read it with
/// [`expose_secret`](Secret::expose_secret). On the wire it is a plain JSON
/// string.
///
/// ```
/// let token = pc_api_runtime::Secret::from("hunter2");
/// assert_eq!(format!("{token:?}"), r#"Secret("[redacted]")"#);
/// assert_eq!(token.expose_secret(), "hunter2");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Call this only where the value must be sent or stored.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Secret(value.clone())
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}
