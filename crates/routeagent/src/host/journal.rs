//! The sysctl journal on disk (`STATE_DIR/sysctl-journal.json`): the
//! original values of the sysctls the agent changed, read at start and
//! written after every change, so `uninstall` restores them even from
//! another process.

use hostnet::SysctlJournal;
use std::io;
use std::path::{Path, PathBuf};

/// Why the journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file exists but cannot be read.
    #[error("cannot read the sysctl journal {}", path.display())]
    Read {
        /// The journal's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file is not a journal.
    #[error("the sysctl journal {} is corrupt; move it away to start fresh (the original values it held are then lost)", path.display())]
    Corrupt {
        /// The journal's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The journal file in `state_dir`.
pub struct JournalFile {
    path: PathBuf,
}

impl JournalFile {
    /// The journal of `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        JournalFile {
            path: state_dir.join("sysctl-journal.json"),
        }
    }

    /// The journal's path.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the journal; an empty one when the file does not exist.
    pub fn load(&self) -> Result<SysctlJournal, JournalError> {
        match std::fs::read(&self.path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|source| JournalError::Corrupt {
                path: self.path.clone(),
                source,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(SysctlJournal::default()),
            Err(source) => Err(JournalError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Writes `journal` atomically (temporary file + rename). A failure is
    /// logged: the agent goes on, but uninstall may not restore the values.
    pub fn persist(&self, journal: &SysctlJournal) {
        let write = || -> io::Result<()> {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = self.path.with_extension("tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(journal)?)?;
            std::fs::rename(tmp, &self.path)
        };
        if let Err(e) = write() {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot persist the sysctl journal; uninstall may not restore original values");
        }
    }

    /// Removes the file (after a complete uninstall); a missing file is fine.
    pub fn remove(&self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove the sysctl journal");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_empty_corrupt_and_unreadable_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let j = JournalFile::new(dir.path());
        assert_eq!(j.load().unwrap(), SysctlJournal::default());
        std::fs::write(j.path(), b"{not json").unwrap();
        let e = j.load().unwrap_err();
        assert!(matches!(e, JournalError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("move it away"), "{e}");
        std::fs::remove_file(j.path()).unwrap();
        std::fs::create_dir(j.path()).unwrap();
        assert!(matches!(j.load().unwrap_err(), JournalError::Read { .. }));
    }

    #[test]
    fn persist_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let j = JournalFile::new(&dir.path().join("sub"));
        let journal = SysctlJournal::default();
        j.persist(&journal);
        assert_eq!(j.load().unwrap(), journal);
        j.remove();
        j.remove();
        assert!(!j.path().exists());
    }
}
