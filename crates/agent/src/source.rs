//! Where topologies come from. Every source publishes [`SourceUpdate`]s on a
//! `tokio::sync::watch` channel; the loop keeps the last good topology when
//! an update carries an error.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use topology::incremental::Parser;
use topology::{Topology, TopologyError};
use tracing::{info, warn};

/// The latest word of a source.
#[derive(Debug, Clone, Default)]
pub struct SourceUpdate {
    /// The latest valid topology (kept when a later input is invalid).
    pub topology: Option<Arc<Topology>>,
    /// Digest of the input the topology came from (`config_digest`).
    pub digest: String,
    /// Why the latest input was refused, if it was (the topology above is the
    /// last good one).
    pub error: Option<String>,
}

/// A source of topologies.
pub trait TopologySource {
    /// Starts the source; updates arrive on the receiver.
    fn start(self) -> watch::Receiver<SourceUpdate>;
}

/// The topology file, re-read when it changes (inotify on its directory, so
/// editors' renames and ConfigMap symlink swaps are seen) and every poll
/// interval as a fallback.
pub struct FileSource {
    path: PathBuf,
    poll: Duration,
}

impl FileSource {
    /// Watches `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSource {
            path: path.into(),
            poll: Duration::from_secs(2),
        }
    }
}

/// A topology file read from disk: its bytes and their digest.
struct Read {
    digest: String,
    bytes: Vec<u8>,
}

/// `cat PATH`: the file's bytes and digest, parsed later only when the
/// digest differs from the last one seen (the poll re-reads the file every
/// interval; parsing a 1,000-cluster file costs milliseconds).
fn read_bytes(path: &Path) -> Result<Read, TopologyError> {
    std::fs::read(path)
        .map(|bytes| Read {
            digest: crate::digest(&bytes),
            bytes,
        })
        .map_err(|source| TopologyError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Parses and validates what [`read_bytes`] returned, re-parsing only the
/// parts of the file that changed since `parser`'s last parse.
fn parse(parser: &mut Parser, path: &Path, r: &Read) -> Result<Arc<Topology>, TopologyError> {
    parser
        .parse(&String::from_utf8_lossy(&r.bytes))
        .map_err(|e| e.in_file(path))
}

/// Reads and validates a topology file: (digest of its bytes, result).
fn read(parser: &mut Parser, path: &Path) -> (String, Result<Arc<Topology>, TopologyError>) {
    match read_bytes(path) {
        Err(e) => (String::new(), Err(e)),
        Ok(r) => {
            let t = parse(parser, path, &r);
            (r.digest, t)
        }
    }
}

/// What `/status` says about a refused topology file.
fn refused(e: &TopologyError) -> String {
    format!("{}; keeping the last good topology", errchain::Chain(e))
}

impl TopologySource for FileSource {
    fn start(self) -> watch::Receiver<SourceUpdate> {
        let mut parser = Parser::default();
        let (digest, first) = read(&mut parser, &self.path);
        let init = match first {
            Ok(t) => SourceUpdate {
                topology: Some(t),
                digest,
                error: None,
            },
            Err(e) => {
                warn!(error = %errchain::Chain(&e), "topology file invalid at start");
                SourceUpdate {
                    topology: None,
                    digest,
                    error: Some(refused(&e)),
                }
            }
        };
        let (tx, rx) = watch::channel(init);
        tokio::spawn(async move {
            let mut events = inotify_events(&self.path);
            let mut last = tx.borrow().digest.clone();
            loop {
                match events.as_mut() {
                    Some(rx) => {
                        let _ = tokio::time::timeout(self.poll, rx.recv()).await;
                        // Only completed writes and renames are watched, so the
                        // file is whole; drop the rest of a burst.
                        while rx.try_recv().is_ok() {}
                    }
                    None => tokio::time::sleep(self.poll).await,
                }
                if tx.is_closed() {
                    return;
                }
                let (digest, res) = match read_bytes(&self.path) {
                    Ok(r) if r.digest == last => continue,
                    Ok(r) => (r.digest.clone(), parse(&mut parser, &self.path, &r)),
                    // Still unreadable, as last time: already reported.
                    Err(_) if last.is_empty() => continue,
                    Err(e) => (String::new(), Err(e)),
                };
                last = digest.clone();
                let prev = tx.borrow().topology.clone();
                let update = match res {
                    Ok(t) => {
                        info!(path = %self.path.display(), digest = %digest, "topology changed");
                        SourceUpdate {
                            topology: Some(t),
                            digest,
                            error: None,
                        }
                    }
                    Err(e) => {
                        warn!(error = %errchain::Chain(&e), "topology reload refused");
                        SourceUpdate {
                            topology: prev,
                            digest,
                            error: Some(refused(&e)),
                        }
                    }
                };
                let _ = tx.send(update);
            }
        });
        rx
    }
}

/// A channel that receives a unit for every inotify event in the file's
/// directory that names the file; `None` when inotify is unavailable.
fn inotify_events(path: &Path) -> Option<tokio::sync::mpsc::Receiver<()>> {
    use inotify::{Inotify, WatchMask};
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = path.file_name()?.to_os_string();
    let mut ino = Inotify::init().ok()?;
    ino.watches()
        .add(
            &dir,
            WatchMask::CLOSE_WRITE
                | WatchMask::MOVED_TO
                | WatchMask::CREATE
                | WatchMask::DELETE
                | WatchMask::MODIFY,
        )
        .ok()?;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    std::thread::Builder::new()
        .name("topology-inotify".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let Ok(events) = ino.read_events_blocking(&mut buf) else {
                    return;
                };
                // Symlink swaps (ConfigMaps) rename `..data`, not the file: any event counts.
                let hit = events.into_iter().any(|e| {
                    e.name
                        .is_none_or(|n| n == name || n.to_string_lossy().starts_with(".."))
                });
                if hit && tx.blocking_send(()).is_err() {
                    return;
                }
            }
        })
        .ok()?;
    Some(rx)
}
