//! An error with its causes, for logs, status strings and reports.
//!
//! # Layout
//! - [`Chain`]: displays an error followed by each `source()` in turn,
//!   joined with `": "`.
//! - [`Flat`]: wraps a foreign error whose message already includes its
//!   causes (the `kube` crate's errors do), so that a chain ends with it.
//!
//! Error types in this workspace never repeat their `#[source]` in their own
//! message, so `to_string()` shows only the outermost step (`cannot read
//! topology file x.yaml`). Wherever an error is shown to an operator without
//! `anyhow` (status fields, `tracing` fields, reports), render it with
//! [`Chain`] so the cause (`No such file or directory (os error 2)`) is
//! printed exactly once.

use std::error::Error;
use std::fmt;

/// Displays `error: cause: cause of the cause`, each message once.
///
/// `format!("{}", Chain(&e))`, or as a tracing field: `error = %Chain(&e)`.
#[derive(Clone, Copy)]
pub struct Chain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A foreign error whose own message already includes its causes, as a
/// `#[source]` that ends the chain: it displays as the wrapped error and has
/// no `source()`, so [`Chain`] (and `anyhow`'s `{:#}`) print those causes
/// once. The wrapped error stays reachable as `.0` (e.g. for its status code).
#[derive(Debug)]
pub struct Flat<E>(pub E);

impl<E: fmt::Display> fmt::Display for Flat<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: fmt::Debug + fmt::Display> Error for Flat<E> {}

#[cfg(test)]
mod tests {
    use super::{Chain, Flat};
    use std::fmt;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot read topology file x.yaml")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_printed_once_in_order() {
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        assert_eq!(
            Chain(&e).to_string(),
            "cannot read topology file x.yaml: no such file"
        );
    }

    #[test]
    fn an_error_without_source_is_its_message() {
        let e = std::io::Error::other("boom");
        assert_eq!(Chain(&e).to_string(), "boom");
    }

    /// Like the `kube` crate's errors: the message repeats the source.
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl fmt::Display for Repeats {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "HyperError: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_flat_error_ends_the_chain() {
        let refused = || std::io::Error::other("connection refused");
        assert_eq!(
            Chain(&Repeats(refused())).to_string(),
            "HyperError: connection refused: connection refused"
        );
        assert_eq!(
            Chain(&Flat(Repeats(refused()))).to_string(),
            "HyperError: connection refused"
        );
    }
}
