//! [`Pinger`]: ICMP echo to one IPv4 address, like `ping -c 1 -W T ADDR`.
//!
//! Opens an unprivileged datagram ICMP socket
//! (`socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`, allowed when the process's
//! group is inside `net.ipv4.ping_group_range`), else a raw ICMP socket
//! (needs `CAP_NET_RAW`). The socket belongs to the network namespace of
//! the thread that creates it.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;
const PAYLOAD: &[u8; 16] = b"routeagent-hchk!";

/// Which kind of ICMP socket a [`Pinger`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `SOCK_DGRAM` ping socket (no privilege needed inside ping_group_range).
    Datagram,
    /// `SOCK_RAW` (needs CAP_NET_RAW).
    Raw,
}

/// Pings one address.
pub struct Pinger {
    sock: tokio::net::UdpSocket,
    kind: SocketKind,
    ident: u16,
    target: Ipv4Addr,
}

/// RFC 1071 internet checksum.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request with `ident` and `seq`.
fn echo_request(ident: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![ECHO_REQUEST, 0, 0, 0];
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(PAYLOAD);
    let c = checksum(&p);
    p[2..4].copy_from_slice(&c.to_be_bytes());
    p
}

/// (type, ident, seq) of the ICMP message in `buf`, skipping the IPv4
/// header when `raw`.
fn parse(buf: &[u8], raw: bool) -> Option<(u8, u16, u16)> {
    let icmp = if raw {
        let ihl = usize::from(buf.first()? & 0x0f) * 4;
        buf.get(ihl..)?
    } else {
        buf
    };
    if icmp.len() < 8 {
        return None;
    }
    Some((
        icmp[0],
        u16::from_be_bytes([icmp[4], icmp[5]]),
        u16::from_be_bytes([icmp[6], icmp[7]]),
    ))
}

fn open(kind: SocketKind) -> io::Result<Socket> {
    let ty = match kind {
        SocketKind::Datagram => Type::DGRAM,
        SocketKind::Raw => Type::from(libc::SOCK_RAW),
    };
    Socket::new(Domain::IPV4, ty, Some(Protocol::ICMPV4))
}

impl Pinger {
    /// Opens a socket for pinging `target` (datagram if permitted, else
    /// raw). Must be called inside a Tokio runtime.
    pub fn new(target: Ipv4Addr) -> io::Result<Pinger> {
        static NEXT: AtomicU16 = AtomicU16::new(0);
        let (sock, kind) = match open(SocketKind::Datagram) {
            Ok(s) => (s, SocketKind::Datagram),
            Err(dgram) => match open(SocketKind::Raw) {
                Ok(s) => (s, SocketKind::Raw),
                Err(raw) => {
                    return Err(io::Error::new(
                        raw.kind(),
                        format!("cannot open an ICMP socket: datagram: {dgram}; raw: {raw}; give the container the NET_RAW capability (or widen net.ipv4.ping_group_range)"),
                    ))
                }
            },
        };
        sock.set_nonblocking(true)?;
        let sock = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(sock))?;
        let ident = (std::process::id() as u16) ^ NEXT.fetch_add(0x3b1, Ordering::Relaxed);
        Ok(Pinger {
            sock,
            kind,
            ident,
            target,
        })
    }

    /// The kind of socket in use.
    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// Sends echo request `seq` and waits up to `timeout` for its reply:
    /// `Ok(Some(rtt))`, or `Ok(None)` when none came.
    pub async fn ping(&mut self, seq: u16, timeout: Duration) -> io::Result<Option<Duration>> {
        let to = SocketAddr::new(IpAddr::V4(self.target), 0);
        let start = Instant::now();
        self.sock
            .send_to(&echo_request(self.ident, seq), to)
            .await?;
        let deadline = tokio::time::Instant::now() + timeout;
        let raw = self.kind == SocketKind::Raw;
        let mut buf = [0u8; 1500];
        loop {
            let r = tokio::time::timeout_at(deadline, self.sock.recv_from(&mut buf)).await;
            let Ok(r) = r else { return Ok(None) };
            let (n, from) = r?;
            if from.ip() != IpAddr::V4(self.target) {
                continue;
            }
            // Datagram sockets: the kernel rewrote the ident and filters by it.
            match parse(&buf[..n], raw) {
                Some((ECHO_REPLY, id, s)) if s == seq && (!raw || id == self.ident) => {
                    return Ok(Some(start.elapsed()))
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request_verifies() {
        let p = echo_request(0x1234, 7);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to 0");
        assert_eq!(parse(&p, false), Some((ECHO_REQUEST, 0x1234, 7)));
        let mut with_ip = vec![0x45u8; 20];
        with_ip.extend_from_slice(&p);
        assert_eq!(parse(&with_ip, true), Some((ECHO_REQUEST, 0x1234, 7)));
        assert_eq!(parse(&[0u8; 3], false), None);
    }
}
