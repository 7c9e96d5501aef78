//! Turning socket failures and refused batch messages into
//! [`packetfilter::Error`]s that name the object.

use crate::batch::Batch;
use crate::socket::Failure;
use packetfilter::{Error, Object};

/// An I/O error while talking to the kernel.
pub(crate) fn io(context: &str, source: std::io::Error) -> Error {
    Error::Io {
        context: format!("nftables netlink: {context}"),
        source,
    }
}

/// The error for a batch some of whose messages were refused: the first
/// refusal (by position in the batch), which is the cause; later ones are
/// usually consequences (a rule in a chain that could not be created).
pub(crate) fn kernel(batch: &Batch, failures: &[Failure]) -> Option<Error> {
    let first = failures
        .iter()
        .find(|f| batch.is_message(f.seq))
        .or_else(|| failures.first())?;
    let mut message = first.message.clone();
    if failures.len() > 1 {
        let more = format!(
            "{} more message(s) of the batch refused",
            failures.len() - 1
        );
        message = Some(match message {
            Some(m) => format!("{m}; {more}"),
            None => more,
        });
    }
    Some(Error::Kernel {
        object: batch.object(first.seq),
        errno: first.errno,
        message,
    })
}

/// A kernel error for a single request (dumps, GETGEN).
pub(crate) fn request(object: Object, errno: i32) -> Error {
    Error::Kernel {
        object,
        errno,
        message: None,
    }
}
