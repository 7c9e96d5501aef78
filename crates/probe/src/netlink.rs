//! [`Netlink`]: the [`Asker`] that talks to nf_tables directly, through the
//! nftables backend's dry-run helpers (`Nftables::probe_chain`,
//! `Nftables::probe_rule`): one batch without BATCH_END per question, so
//! nothing is committed and no `nft` binary is needed.

use crate::nft::{AskError, Asker};
use packetfilter_nftables::Nftables;
use ruleset::Table;

/// Asks over a NETLINK_NETFILTER socket opened in the caller's namespace.
#[derive(Debug)]
pub struct Netlink(Nftables);

impl Netlink {
    /// Opens the socket; `None` when nfnetlink cannot be opened at all.
    pub fn open() -> Result<Netlink, String> {
        Nftables::new()
            .map(Netlink)
            .map_err(|e| errchain::Chain(&e).to_string())
    }

    /// The nf_tables generation (`NFT_MSG_GETGEN`), which any commit
    /// changes and a dry run never does.
    pub fn generation(&self) -> Option<u32> {
        self.0.generation().ok()
    }
}

impl Asker for Netlink {
    fn ask(&self, questions: &[Table]) -> Result<Vec<Result<(), i32>>, AskError> {
        // Every question in one dry-run batch; one question at a time only if
        // the batch as a whole could not be sent.
        let answers: Vec<Result<(), i32>> = match self.0.probe_many(questions) {
            Ok(a) => a,
            Err(errno) => {
                tracing::debug!(
                    errno,
                    "one dry-run batch failed as a whole; asking one question at a time"
                );
                questions
                    .iter()
                    .map(|t| {
                        let Some(c) = t.chains.first() else {
                            return Err(22);
                        };
                        let Some(b) = c.base else { return Err(22) };
                        match c.rules.first() {
                            None => self.0.probe_chain(t.family, b.ty, b.hook, b.priority),
                            Some(r) => self.0.probe_rule(t.family, b.ty, b.hook, r, &t.sets),
                        }
                    })
                    .collect()
            }
        };
        if !answers.is_empty() && answers.iter().all(|a| *a == Err(1)) {
            return Err(AskError::Permission);
        }
        if !answers.is_empty() && answers.iter().all(|a| *a == Err(93) || *a == Err(97)) {
            return Err(AskError::Unavailable(
                "the kernel has no nf_tables (EPROTONOSUPPORT); needs CONFIG_NF_TABLES".into(),
            ));
        }
        Ok(answers)
    }
}
