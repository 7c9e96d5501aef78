//! hostnet (being written).
