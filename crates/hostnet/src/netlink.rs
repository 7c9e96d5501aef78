//! Low-level rtnetlink plumbing shared by every object folder: opening the
//! connection, sending a request and waiting for its ack, dumping, errno
//! classification, and turning an rtnetlink error into an [`Error`] that
//! names the object.

use crate::error::Error;
use futures::StreamExt;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::proto::Connection;
use rtnetlink::sys::AsyncSocket;
use rtnetlink::Handle;
use std::io;

/// Opens an rtnetlink socket (`rtnetlink::new_connection`) with strict
/// checking of get and dump requests turned on (`NETLINK_GET_STRICT_CHK`,
/// Linux 4.20+), so that the kernel filters a dump by the table, protocol
/// and type the request names instead of sending everything. Returns
/// whether the kernel accepted the option: an older one refuses it and
/// ignores those filters, which [`crate::routes::list_routes_where`] then
/// applies in user space.
pub(crate) fn connect() -> io::Result<(Connection<RouteNetlinkMessage>, Handle, bool)> {
    let (mut conn, handle, _) = rtnetlink::new_connection()?;
    let strict = match conn
        .socket_mut()
        .socket_ref()
        .set_netlink_get_strict_chk(true)
    {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "the kernel refuses strict netlink checking; route dumps are filtered in user space");
            false
        }
    };
    Ok((conn, handle, strict))
}

/// An rtnetlink failure before it is attached to an object.
#[derive(Debug)]
pub(crate) struct NlError(pub io::Error);

impl NlError {
    /// The errno, if the kernel sent one.
    pub(crate) fn errno(&self) -> Option<i32> {
        self.0.raw_os_error()
    }

    /// "Already gone" for a delete: ENOENT, ESRCH, ENODEV, EADDRNOTAVAIL.
    pub(crate) fn is_gone(&self) -> bool {
        matches!(self.errno(), Some(2) | Some(3) | Some(19) | Some(99))
    }

    /// Attaches the object and verb.
    pub(crate) fn on(self, object: impl Into<String>, verb: &'static str) -> Error {
        Error::Kernel {
            object: object.into(),
            verb,
            cause: self.0,
        }
    }
}

impl From<rtnetlink::Error> for NlError {
    fn from(e: rtnetlink::Error) -> Self {
        match e {
            rtnetlink::Error::NetlinkError(m) => NlError(m.to_io()),
            other => NlError(io::Error::other(other.to_string())),
        }
    }
}

/// Sends one request with `NLM_F_REQUEST | NLM_F_ACK | extra_flags` and
/// waits for the kernel's ack (an error payload with code 0).
pub(crate) async fn ack(
    handle: &Handle,
    msg: RouteNetlinkMessage,
    extra_flags: u16,
) -> Result<(), NlError> {
    let mut req = NetlinkMessage::from(msg);
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK | extra_flags;
    let mut handle = handle.clone();
    let mut replies = handle.request(req).map_err(NlError::from)?;
    while let Some(reply) = replies.next().await {
        if let NetlinkPayload::Error(e) = reply.payload {
            if e.code.is_some() {
                return Err(NlError(e.to_io()));
            }
        }
    }
    Ok(())
}

/// Sends a dump request and collects every inner message of the reply.
pub(crate) async fn dump(
    handle: &Handle,
    msg: RouteNetlinkMessage,
) -> Result<Vec<RouteNetlinkMessage>, NlError> {
    let mut req = NetlinkMessage::from(msg);
    req.header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut handle = handle.clone();
    let mut replies = handle.request(req).map_err(NlError::from)?;
    let mut out = Vec::new();
    while let Some(reply) = replies.next().await {
        match reply.payload {
            NetlinkPayload::InnerMessage(m) => out.push(m),
            NetlinkPayload::Error(e) if e.code.is_some() => return Err(NlError(e.to_io())),
            _ => {}
        }
    }
    Ok(out)
}
