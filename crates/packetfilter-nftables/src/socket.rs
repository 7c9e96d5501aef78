//! The NETLINK_NETFILTER socket: opening it with large buffers and extended
//! ACKs, sending a batch and collecting one answer per message, dumps
//! (`NLM_F_DUMP`) and single requests.
//!
//! The kernel processes a batch synchronously inside `sendmsg`, so when
//! `send` returns every ACK and error is already queued on the socket.

use crate::batch::{nfproto, Batch};
use crate::errors::io;
use netlink_packet_core::{Emitable, NetlinkMessage, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST};
use netlink_packet_netfilter::nftables::NfTablesMessage;
use netlink_packet_netfilter::{NetfilterHeader, NetfilterMessage};
use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};
use packetfilter::Result;
use ruleset::Family;
use std::io::ErrorKind;
use std::time::Duration;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
/// Socket buffer size asked for (the kernel caps the non-FORCE variant at
/// net.core.[rw]mem_max).
const BUF_SIZE: usize = 64 << 20;
/// How long to wait for an answer that is not queued yet.
const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// The answers to a request (attribute bytes after `nfgenmsg`, one per
/// message), or the errno the kernel answered with.
pub(crate) type Answer = std::result::Result<Vec<Vec<u8>>, i32>;

/// One refused message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// Its sequence number.
    pub seq: u32,
    /// The positive errno.
    pub errno: i32,
    /// The extended-ack message, if the kernel sent one.
    pub message: Option<String>,
}

/// A connected NETLINK_NETFILTER socket and its sequence counter.
pub(crate) struct Conn {
    sock: Socket,
    seq: u32,
    rx: Vec<u8>,
}

/// One netlink message read from the socket.
struct Msg<'a> {
    ty: u16,
    flags: u16,
    seq: u32,
    payload: &'a [u8],
}

fn parse_msgs(buf: &[u8]) -> Vec<Msg<'_>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= buf.len() {
        let len = u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]) as usize;
        if len < 16 || off + len > buf.len() {
            break;
        }
        out.push(Msg {
            ty: u16::from_ne_bytes([buf[off + 4], buf[off + 5]]),
            flags: u16::from_ne_bytes([buf[off + 6], buf[off + 7]]),
            seq: u32::from_ne_bytes([buf[off + 8], buf[off + 9], buf[off + 10], buf[off + 11]]),
            payload: &buf[off + 16..off + len],
        });
        off += (len + 3) & !3;
    }
    out
}

/// Errno and extended-ack text of an `NLMSG_ERROR` payload.
fn parse_error(flags: u16, p: &[u8]) -> (i32, Option<String>) {
    if p.len() < 4 {
        return (libc::EPROTO, None);
    }
    let errno = -i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
    let mut message = None;
    if flags & NLM_F_ACK_TLVS != 0 && p.len() >= 20 {
        let orig_len = u32::from_ne_bytes([p[4], p[5], p[6], p[7]]) as usize;
        let mut off = if flags & NLM_F_CAPPED != 0 {
            20
        } else {
            4 + ((orig_len + 3) & !3)
        };
        while off + 4 <= p.len() {
            let l = u16::from_ne_bytes([p[off], p[off + 1]]) as usize;
            let t = u16::from_ne_bytes([p[off + 2], p[off + 3]]) & 0x3fff;
            if l < 4 || off + l > p.len() {
                break;
            }
            if t == NLMSGERR_ATTR_MSG {
                let s = &p[off + 4..off + l];
                let s = s.split(|b| *b == 0).next().unwrap_or_default();
                message = Some(String::from_utf8_lossy(s).into_owned());
            }
            off += (l + 3) & !3;
        }
    }
    (errno, message)
}

impl Conn {
    /// Opens a socket in the calling thread's network namespace.
    pub(crate) fn open() -> Result<Conn> {
        let mut sock = Socket::new(NETLINK_NETFILTER)
            .map_err(|e| io("opening a NETLINK_NETFILTER socket", e))?;
        sock.bind_auto()
            .map_err(|e| io("binding the netlink socket", e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| io("connecting the netlink socket to the kernel", e))?;
        use rustix::net::sockopt;
        if sockopt::set_socket_send_buffer_size_force(&sock, BUF_SIZE).is_err() {
            sockopt::set_socket_send_buffer_size(&sock, BUF_SIZE)
                .map_err(|e| io("setting SO_SNDBUF", e.into()))?;
        }
        if sockopt::set_socket_recv_buffer_size_force(&sock, BUF_SIZE).is_err() {
            sockopt::set_socket_recv_buffer_size(&sock, BUF_SIZE)
                .map_err(|e| io("setting SO_RCVBUF", e.into()))?;
        }
        sockopt::set_socket_timeout(&sock, sockopt::Timeout::Recv, Some(RECV_TIMEOUT))
            .map_err(|e| io("setting SO_RCVTIMEO", e.into()))?;
        // Both are optional: older kernels lack them and still work.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        Ok(Conn {
            sock,
            seq: std::process::id().wrapping_mul(65_536),
            rx: Vec::with_capacity(1 << 20),
        })
    }

    /// The sequence number the next batch starts at.
    pub(crate) fn next_seq(&self) -> u32 {
        self.seq
    }

    /// Reads one datagram into `rx`; `Ok(false)` when nothing is queued
    /// (non-blocking) or the timeout passed (blocking).
    fn recv(&mut self, block: bool) -> Result<bool> {
        self.rx.clear();
        let flags = if block { 0 } else { libc::MSG_DONTWAIT };
        match self.sock.recv(&mut self.rx, flags) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(io("reading from the netlink socket", e)),
        }
    }

    /// Throws away anything left over from an earlier, interrupted exchange.
    fn drain(&mut self) -> Result<()> {
        while self.recv(false)? {}
        Ok(())
    }

    fn send(&mut self, bytes: &[u8], what: &str) -> Result<()> {
        let n = self.sock.send(bytes, 0).map_err(|e| {
            let hint = if e.raw_os_error() == Some(libc::EMSGSIZE) {
                "; the batch exceeds the socket send buffer: run with CAP_NET_ADMIN \
                 (SO_SNDBUFFORCE) or raise net.core.wmem_max"
            } else {
                ""
            };
            io(&format!("sending {what} ({} bytes){hint}", bytes.len()), e)
        })?;
        if n != bytes.len() {
            return Err(io(
                &format!("sending {what}"),
                std::io::Error::other(format!("short send: {n} of {} bytes", bytes.len())),
            ));
        }
        Ok(())
    }

    /// Sends `batch` and returns every refused message. An empty list means
    /// the kernel accepted every message (and committed, if the batch ends).
    pub(crate) fn transact(&mut self, batch: &Batch) -> Result<Vec<Failure>> {
        self.drain()?;
        self.seq = batch.end_seq();
        self.send(batch.bytes(), "the nftables batch")?;
        let mut pending = batch.messages();
        let mut failures = Vec::new();
        let mut batch_error = false;
        loop {
            // Everything is queued once send returned; block only if the
            // kernel still owes answers and reported no batch-level error.
            let block = pending > 0 && !batch_error;
            if !self.recv(block)? {
                if block {
                    return Err(io(
                        "waiting for the kernel's answer to the nftables batch",
                        std::io::Error::new(
                            ErrorKind::TimedOut,
                            format!("{pending} of {} messages unanswered", batch.messages()),
                        ),
                    ));
                }
                break;
            }
            for m in parse_msgs(&self.rx) {
                if m.ty != NLMSG_ERROR || !batch.contains(m.seq) {
                    continue;
                }
                let (errno, message) = parse_error(m.flags, m.payload);
                if batch.is_message(m.seq) {
                    pending = pending.saturating_sub(1);
                } else if errno != 0 {
                    batch_error = true;
                }
                if errno != 0 {
                    failures.push(Failure {
                        seq: m.seq,
                        errno,
                        message,
                    });
                }
            }
        }
        failures.sort_by_key(|f| f.seq.wrapping_sub(batch.begin_seq()));
        Ok(failures)
    }

    /// Sends one request (`NLM_F_DUMP` if `dump`) and returns the attribute
    /// bytes (after `nfgenmsg`) of every answer, or the errno the kernel
    /// answered with.
    ///
    /// A dump the kernel marks interrupted (`NLM_F_DUMP_INTR`: the ruleset
    /// changed meanwhile) is repeated, up to three times.
    pub(crate) fn request(
        &mut self,
        family: Option<Family>,
        msg: NfTablesMessage,
        dump: bool,
    ) -> Result<Answer> {
        let mut attempts = 0;
        loop {
            let (answer, interrupted) = self.request_once(family, msg.clone(), dump)?;
            attempts += 1;
            if !interrupted || attempts == 3 {
                return Ok(answer);
            }
        }
    }

    fn request_once(
        &mut self,
        family: Option<Family>,
        msg: NfTablesMessage,
        dump: bool,
    ) -> Result<(Answer, bool)> {
        self.drain()?;
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let fam = family
            .map(nfproto)
            .unwrap_or(netlink_packet_netfilter::NetfilterProtoFamily::Unspec);
        let mut m =
            NetlinkMessage::from(NetfilterMessage::new(NetfilterHeader::new(fam, 0, 0), msg));
        m.header.flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { 0 };
        m.header.sequence_number = seq;
        m.finalize();
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        self.send(&buf, "an nftables request")?;
        let mut out = Vec::new();
        let mut interrupted = false;
        loop {
            if !self.recv(true)? {
                return Err(io(
                    "waiting for the kernel's answer to an nftables request",
                    std::io::Error::new(ErrorKind::TimedOut, "no answer"),
                ));
            }
            for m in parse_msgs(&self.rx) {
                if m.seq != seq {
                    continue;
                }
                interrupted |= m.flags & NLM_F_DUMP_INTR != 0;
                match m.ty {
                    NLMSG_DONE => return Ok((Ok(out), interrupted)),
                    NLMSG_ERROR => {
                        let (errno, _) = parse_error(m.flags, m.payload);
                        let answer = if errno == 0 { Ok(out) } else { Err(errno) };
                        return Ok((answer, interrupted));
                    }
                    _ => {
                        out.push(m.payload.get(4..).unwrap_or_default().to_vec());
                        if !dump {
                            return Ok((Ok(out), interrupted));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_capped_error_with_extack_message() {
        // errno -22, capped original header (16 bytes), then NLMSGERR_ATTR_MSG "bad\0"
        let mut p = (-22i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0u8; 16]);
        p.extend_from_slice(&8u16.to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(b"bad\0");
        assert_eq!(
            parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p),
            (22, Some("bad".into()))
        );
        assert_eq!(parse_error(NLM_F_CAPPED, &p), (22, None));
    }

    #[test]
    fn splits_a_datagram_into_messages() {
        let mut buf = Vec::new();
        for seq in [7u32, 8] {
            buf.extend_from_slice(&20u32.to_ne_bytes());
            buf.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
            buf.extend_from_slice(&0u16.to_ne_bytes());
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            buf.extend_from_slice(&0i32.to_ne_bytes());
        }
        let m = parse_msgs(&buf);
        assert_eq!(m.len(), 2);
        assert_eq!((m[1].ty, m[1].seq, m[1].payload.len()), (NLMSG_ERROR, 8, 4));
    }
}
