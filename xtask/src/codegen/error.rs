//! Errors of the generator: each names the spec file, the line, the JSON
//! pointer of the offending construct and what is supported instead.

use std::fmt;
use std::path::PathBuf;

use super::spec::Document;

/// An error of [`super::run`]: the spec could not be read, was refused, or the
/// output could not be written.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing a file failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The spec is invalid or uses something the generator does not support.
    Spec(SpecErrors),
    /// The command line asks for something impossible.
    Usage(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "error: {}: {source}", path.display()),
            Error::Spec(errors) => write!(f, "{errors}"),
            Error::Usage(message) => write!(f, "error: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Spec(errors) => Some(errors),
            Error::Usage(_) => None,
        }
    }
}

/// One problem in the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The spec file as named to [`super::generate`].
    pub file: String,
    /// The 1-based line of the construct, when it could be found.
    pub line: Option<usize>,
    /// The JSON pointer of the construct, e.g. `#/components/schemas/Link`.
    pub pointer: String,
    /// What is wrong and what is supported instead.
    pub message: String,
}

impl SpecError {
    /// An error at `pointer`, whose line is filled in later.
    pub(crate) fn at(pointer: &str, message: impl Into<String>) -> Self {
        SpecError {
            file: String::new(),
            line: None,
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// An error of the generator's surroundings, such as unreadable runtime sources.
    pub(crate) fn internal_message(what: &str, message: String) -> Self {
        SpecError {
            file: what.to_owned(),
            line: None,
            pointer: "#".to_owned(),
            message: format!("internal error: {message}"),
        }
    }

    /// An error of the generator itself (generated code that does not parse).
    pub(crate) fn internal(file: &str, output: &str, message: String) -> Self {
        SpecError {
            file: file.to_owned(),
            line: None,
            pointer: "#".to_owned(),
            message: format!("internal error: generated {output} is not valid Rust: {message}"),
        }
    }
}

impl SpecError {
    /// `file:line: at pointer: message`, without the `error:` of
    /// `Display`: for warnings and refusals.
    pub fn located(&self) -> String {
        match self.line {
            Some(line) => format!(
                "{}:{line}: at {}: {}",
                self.file, self.pointer, self.message
            ),
            None => format!("{}: at {}: {}", self.file, self.pointer, self.message),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.located())
    }
}

/// Every problem found in one spec, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    pub(crate) fn single(error: SpecError) -> Self {
        SpecErrors(vec![error])
    }

    /// Fills in the file and line of every error from the document.
    pub(crate) fn located(mut self, document: &Document) -> Self {
        for error in &mut self.0 {
            error.file = document.name.clone();
            error.line = document.line_of(&error.pointer);
        }
        self
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} errors in the spec", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}
