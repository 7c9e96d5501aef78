//! What the host can do, as a value shared by backend choice, the planner,
//! the agent's status, metrics and `doctor`.
//!
//! # Layout
//! - [`feature`]: [`Feature`], the stable feature names (`mss-clamp`, ...)
//!   and [`feature::REQUIREMENTS`], the table docs/REQUIREMENTS.md is
//!   generated from.
//! - [`caps`]: [`Capabilities`], filled by the `probe` crate (or built by
//!   tests), with `--assume-missing` applied on top.
//! - [`choice`]: [`choose`] turns capabilities and the operator's request into
//!   [`Constructs`]: the backend, the table layout, and each feature on or off
//!   with its reason and fix.
//! - [`docs`]: [`requirements_markdown`], the generated docs/REQUIREMENTS.md.

pub mod caps;
pub mod choice;
pub mod docs;
pub mod feature;

pub use caps::{Capabilities, ChainMatrix, IptablesInfo, IptablesVariant, KernelInfo};
pub use choice::{
    choose, BackendKind, Constructs, Degradation, NotReady, PacketFilterRequest, TableLayout,
};
pub use docs::requirements_markdown;
pub use feature::{parse_feature_list, Feature, FeatureState, Requirement};
