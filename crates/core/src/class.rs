//! Error classes: what kind of thing went wrong, independent of the crate that noticed it. The
//! CLI maps a class to its exit code and the HTTP service to a status code, so a bot can tell
//! "fix your request" from "fix your file" from "try again later".

use serde::Serialize;

/// The class of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Bad arguments: a flag value, a combination of flags, an output path. Fix the command.
    Usage,
    /// Bad input data: a file's contents, a config, an artifact, a response that cannot be used.
    Data,
    /// The file system failed (permissions, disk full, a missing folder).
    Io,
    /// The exchange could not be reached or answered with an error.
    Network,
    /// A bug in vane.
    Internal,
}

impl ErrorClass {
    /// All classes, in exit-code order.
    pub const ALL: [ErrorClass; 5] =
        [ErrorClass::Usage, ErrorClass::Data, ErrorClass::Io, ErrorClass::Network, ErrorClass::Internal];

    /// The process exit code of the `vane` CLI for this class (1 is kept for "the run finished
    /// and reported a failure", for example a partial download).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::Usage => 2,
            ErrorClass::Data => 3,
            ErrorClass::Io => 4,
            ErrorClass::Network => 5,
            ErrorClass::Internal => 70,
        }
    }

    /// The HTTP status the service answers with for this class.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorClass::Usage => 400,
            ErrorClass::Data => 422,
            ErrorClass::Io => 500,
            ErrorClass::Network => 502,
            ErrorClass::Internal => 500,
        }
    }

    /// A stable lowercase name (`usage`, `data`, `io`, `network`, `internal`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Usage => "usage",
            ErrorClass::Data => "data",
            ErrorClass::Io => "io",
            ErrorClass::Network => "network",
            ErrorClass::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl crate::CoreError {
    /// The class of this error: values parsed from files are data; an argument out of its
    /// domain is usage.
    pub fn class(&self) -> ErrorClass {
        use crate::CoreError::*;
        match self {
            InvalidSymbol(_) | InvalidInterval(_) | InvalidTimestamp(_) => ErrorClass::Data,
            InvalidBar { .. } | Unordered { .. } | Columns(_) => ErrorClass::Data,
            InvalidArgument(_) => ErrorClass::Usage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_skip_0_and_1() {
        let codes: std::collections::BTreeSet<u8> = ErrorClass::ALL.iter().map(|c| c.exit_code()).collect();
        assert_eq!(codes.len(), 5);
        assert!(!codes.contains(&0) && !codes.contains(&1));
    }
}
