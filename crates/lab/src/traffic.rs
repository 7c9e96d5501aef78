//! Traffic between namespaces: ping, checksummed TCP transfers (a tiny
//! sender and receiver whose sockets live in the pods' namespaces, hashed by
//! `sha256sum`), one-byte TCP probes, and iperf3.

use crate::ns::{exec, exec_any, in_ns};
use crate::{LabError, Result};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

static PORT: AtomicU16 = AtomicU16::new(0);

/// A fresh TCP port for a listener (30000..60000, per process).
pub fn next_port() -> u16 {
    let n = PORT.fetch_add(1, Ordering::Relaxed);
    30000 + (((std::process::id() as u16).wrapping_mul(7)).wrapping_add(n) % 30000)
}

/// `ping -c 1 -W 1 DST` from `ns`, up to 8 tries: the first may wait for
/// ARP, and a WireGuard cable whose handshake initiation was lost retries
/// it only after REKEY_TIMEOUT (5 s). Connectivity is what this asserts;
/// the failover check times recovery separately.
pub fn ping(ns: &str, dst: Ipv4Addr) -> Result<()> {
    let mut last = None;
    for _ in 0..8 {
        match exec(ns, "ping", &["-c", "1", "-W", "1", "-q", &dst.to_string()]) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| LabError::Config("ping never ran".into())))
}

/// Result of a [`tcp_transfer`].
#[derive(Debug, Clone)]
pub struct Transfer {
    /// Bytes sent (and received, when it completed).
    pub bytes: u64,
    /// sha256 of what was sent.
    pub sent_sha256: String,
    /// sha256 of what arrived.
    pub received_sha256: String,
    /// The source address the receiver saw.
    pub peer: SocketAddr,
    /// Wall time of the transfer.
    pub elapsed: Duration,
}

/// `sha256sum` fed through a pipe (fast even in debug builds).
struct Sha {
    child: Child,
}

impl Sha {
    fn new() -> Result<Sha> {
        Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map(|child| Sha { child })
            .map_err(|e| LabError::Command {
                ns: "root".into(),
                command: "sha256sum".into(),
                stderr: e.to_string(),
            })
    }
    fn update(&mut self, data: &[u8]) {
        if let Some(i) = self.child.stdin.as_mut() {
            let _ = i.write_all(data);
        }
    }
    fn finish(mut self) -> String {
        drop(self.child.stdin.take());
        self.child
            .wait_with_output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .chars()
                    .take(64)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Sends `bytes` pseudo-random bytes over TCP from namespace `from` to
/// `to_ip` (a listener in namespace `to`), within `timeout`; the receiver
/// hashes what arrives. Errors when the transfer does not complete in time.
pub fn tcp_transfer(
    from: &str,
    to: &str,
    to_ip: Ipv4Addr,
    bytes: u64,
    timeout: Duration,
) -> Result<Transfer> {
    let port = next_port();
    let dest = SocketAddr::from((to_ip, port));
    let terr = |detail: String| LabError::Traffic {
        from: from.to_string(),
        to: format!("{to} {dest}"),
        detail,
    };
    let listener =
        in_ns(to, || TcpListener::bind(dest))?.map_err(|e| terr(format!("listen in {to}: {e}")))?;
    let start = Instant::now();
    let deadline = start + timeout;
    let gave_up = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let receiver = s.spawn(|| receive(&listener, deadline, &gave_up));
        let sent = send(from, dest, bytes, deadline);
        if sent.is_err() {
            gave_up.store(true, Ordering::Relaxed);
        }
        let received = receiver
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let (sent_sha256, sent_n) = sent.map_err(terr)?;
        let (received_sha256, got, peer) = received.map_err(terr)?;
        if got != sent_n {
            return Err(terr(format!("sent {sent_n} bytes, received {got}")));
        }
        Ok(Transfer {
            bytes: got,
            sent_sha256,
            received_sha256,
            peer,
            elapsed: start.elapsed(),
        })
    })
}

fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

fn send(
    from: &str,
    dest: SocketAddr,
    bytes: u64,
    deadline: Instant,
) -> Result<(String, u64), String> {
    let mut s = in_ns(from, || TcpStream::connect_timeout(&dest, left(deadline)))
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let mut sha = Sha::new().map_err(|e| e.to_string())?;
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in block.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
    }
    let mut sent = 0u64;
    let mut chunk = 0u64;
    while sent < bytes {
        block[..8].copy_from_slice(&chunk.to_le_bytes());
        chunk += 1;
        let n = (bytes - sent).min(block.len() as u64) as usize;
        let _ = s.set_write_timeout(Some(left(deadline)));
        if let Err(e) = s.write_all(&block[..n]) {
            let _ = sha.finish();
            let why = match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    "timed out".to_string()
                }
                _ => e.to_string(),
            };
            return Err(format!("stalled: {sent} of {bytes} bytes written, {why}"));
        }
        sha.update(&block[..n]);
        sent += n as u64;
    }
    let _ = s.shutdown(Shutdown::Write);
    // Wait for the receiver to close: everything has arrived.
    let _ = s.set_read_timeout(Some(left(deadline)));
    let mut one = [0u8; 1];
    let _ = s.read(&mut one);
    Ok((sha.finish(), sent))
}

fn receive(
    listener: &TcpListener,
    deadline: Instant,
    gave_up: &std::sync::atomic::AtomicBool,
) -> Result<(String, u64, SocketAddr), String> {
    let _ = listener.set_nonblocking(true);
    let (mut s, peer) = loop {
        match listener.accept() {
            Ok(c) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline || gave_up.load(Ordering::Relaxed) {
                    return Err("no connection arrived".into());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    };
    let _ = s.set_nonblocking(false);
    let mut sha = Sha::new().map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1 << 18];
    let mut got = 0u64;
    loop {
        let _ = s.set_read_timeout(Some(left(deadline)));
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                sha.update(&buf[..n]);
                got += n as u64;
            }
            Err(e) => {
                let _ = sha.finish();
                return Err(format!("receiving stopped after {got} bytes: {e}"));
            }
        }
    }
    Ok((sha.finish(), got, peer))
}

/// A listener in a namespace that answers every connection with one byte:
/// the target of [`probe`].
pub struct Responder {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Responder {
    /// Listens on `ip:fresh port` in namespace `ns`.
    pub fn start(ns: &str, ip: Ipv4Addr) -> Result<Responder> {
        let addr = SocketAddr::from((ip, next_port()));
        let l = in_ns(ns, || TcpListener::bind(addr))?.map_err(|e| LabError::Traffic {
            from: ns.into(),
            to: addr.to_string(),
            detail: format!("listen: {e}"),
        })?;
        let _ = l.set_nonblocking(true);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        let _ = c.write_all(b"k");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Ok(Responder {
            stop,
            thread: Some(thread),
            addr,
        })
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One TCP connection from `from` to `to` that reads the responder's byte
/// within `timeout`.
pub fn probe(from: &str, to: SocketAddr, timeout: Duration) -> Result<()> {
    let err = |detail: String| LabError::Traffic {
        from: from.into(),
        to: to.to_string(),
        detail,
    };
    let mut s = in_ns(from, || TcpStream::connect_timeout(&to, timeout))?
        .map_err(|e| err(format!("connect: {e}")))?;
    let _ = s.set_read_timeout(Some(timeout));
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(1) => Ok(()),
        Ok(_) => Err(err("closed without answering".into())),
        Err(e) => Err(err(format!("read: {e}"))),
    }
}

/// What one iperf3 run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iperf {
    /// Received Gbit/s over the whole run.
    pub gbit: f64,
    /// The best one-second interval, Gbit/s.
    pub best_second: f64,
}

/// iperf3 for `secs` seconds from namespace `from` to a server in `to` at
/// `to_ip`.
pub fn iperf3(from: &str, to: &str, to_ip: Ipv4Addr, secs: u32) -> Result<Iperf> {
    let port = next_port().to_string();
    let mut server = Command::new("ip")
        .args(["netns", "exec", to, "iperf3", "-s", "-1", "-p", &port])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| LabError::Command {
            ns: to.into(),
            command: "iperf3 -s".into(),
            stderr: e.to_string(),
        })?;
    let ip = to_ip.to_string();
    let secs = secs.to_string();
    let mut last = String::new();
    let mut gbit = None;
    for _ in 0..30 {
        let (code, out, stderr) =
            exec_any(from, "iperf3", &["-c", &ip, "-p", &port, "-t", &secs, "-J"])?;
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        if let Some(b) = v["end"]["sum_received"]["bits_per_second"].as_f64() {
            let best = v["intervals"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["sum"]["bits_per_second"].as_f64())
                .fold(0f64, f64::max);
            gbit = Some(Iperf {
                gbit: b / 1e9,
                best_second: best.max(b) / 1e9,
            });
            break;
        }
        last = format!("exit {code}: {} {}", v["error"], stderr.trim());
        if !last.contains("refused") {
            break;
        }
        // The server does not listen yet.
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    gbit.ok_or_else(|| LabError::Command {
        ns: from.into(),
        command: format!("iperf3 -c {ip} -p {port} -t {secs} -J"),
        stderr: last,
    })
}
