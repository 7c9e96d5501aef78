//! Gratuitous ARP on the agent's VXLAN links (`arping -U -c 1 -I DEV IP`).
//!
//! Why: when the gateway moves, every agent re-creates its tunnel links on
//! its own schedule. A node that is faster than the new gateway asks for
//! the gateway's tunnel address (ARP over the VXLAN) before the gateway's
//! link exists; the request is lost, the node's neighbour entry stays
//! INCOMPLETE and the kernel asks again only after `retrans_time_ms`
//! (1 s by default), so traffic waits a whole second. A gratuitous ARP
//! sent once the link, its address and its FDB entries are in place
//! reaches every peer through the FDB's flood entries; a peer with an
//! INCOMPLETE entry for the address takes it at once (the kernel updates
//! existing entries from any ARP), peers without one ignore it
//! (`arp_accept=0`).

use crate::error::{Error, Result};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `ETH_P_ARP`.
const ETH_P_ARP: u16 = 0x0806;

/// The 28-byte ARP request "who-has IP tell IP" from `mac`: the gratuitous
/// form (sender and target protocol address are both `ip`), as `arping -U`
/// sends it.
pub fn garp_payload(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 28] {
    let mut p = [0u8; 28];
    p[0..2].copy_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    p[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol: IPv4
    p[4] = 6;
    p[5] = 4;
    p[6..8].copy_from_slice(&1u16.to_be_bytes()); // request
    p[8..14].copy_from_slice(&mac);
    p[14..18].copy_from_slice(&ip.octets());
    // Target hardware address stays zero.
    p[24..28].copy_from_slice(&ip.octets());
    p
}

/// Broadcasts one gratuitous ARP for `ip` out of link `dev`. Equals
/// `arping -U -c 1 -I DEV IP`. Acts in the calling thread's network
/// namespace; needs CAP_NET_RAW.
#[allow(unsafe_code)] // packet sockets and SIOCGIFHWADDR have no safe wrapper in std
pub fn announce(dev: &str, ip: Ipv4Addr) -> Result<()> {
    let err = |verb: &'static str, cause: io::Error| Error::Kernel {
        object: format!("gratuitous ARP {ip} dev {dev}"),
        verb,
        cause,
    };
    let name = std::ffi::CString::new(dev).map_err(|_| Error::Invalid {
        object: format!("link {dev:?}"),
        reason: "the name holds a NUL byte".into(),
    })?;
    // SAFETY: plain syscalls on a socket this function owns; every buffer
    // passed outlives the call and has the length given.
    unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            i32::from(ETH_P_ARP.to_be()),
        );
        if fd < 0 {
            return Err(err("open packet socket", io::Error::last_os_error()));
        }
        let sock = OwnedFd::from_raw_fd(fd);
        let mut req: libc::ifreq = std::mem::zeroed();
        for (d, s) in req.ifr_name.iter_mut().zip(name.as_bytes_with_nul()) {
            *d = *s as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) < 0 {
            return Err(err("read MAC", io::Error::last_os_error()));
        }
        let hw = req.ifr_ifru.ifru_hwaddr.sa_data;
        let mac = [hw[0], hw[1], hw[2], hw[3], hw[4], hw[5]].map(|b| b as u8);
        let index = libc::if_nametoindex(name.as_ptr());
        if index == 0 {
            return Err(err("find", io::Error::last_os_error()));
        }
        let mut to: libc::sockaddr_ll = std::mem::zeroed();
        to.sll_family = libc::AF_PACKET as u16;
        to.sll_protocol = ETH_P_ARP.to_be();
        to.sll_ifindex = index as i32;
        to.sll_halen = 6;
        to.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        let p = garp_payload(mac, ip);
        let n = libc::sendto(
            sock.as_raw_fd(),
            p.as_ptr().cast(),
            p.len(),
            0,
            (&to as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        );
        if n < 0 {
            return Err(err("send", io::Error::last_os_error()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_a_gratuitous_request() {
        let p = garp_payload([2, 0, 0xf0, 1, 0, 1], Ipv4Addr::new(240, 1, 0, 1));
        assert_eq!(
            p,
            [
                0, 1, 8, 0, 6, 4, 0, 1, // Ethernet, IPv4, 6, 4, request
                2, 0, 0xf0, 1, 0, 1, 240, 1, 0, 1, // sender MAC, IP
                0, 0, 0, 0, 0, 0, 240, 1, 0, 1, // target MAC (zero), IP
            ]
        );
    }
}
