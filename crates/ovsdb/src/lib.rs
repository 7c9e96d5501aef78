//! A small OVSDB client (RFC 7047 JSON-RPC) for the OVN northbound
//! database: `unix:`, `tcp:` and `ssl:` endpoints (TLS through rustls with
//! a client certificate, as ovsdb-server requires), `transact`, `monitor`,
//! answers to the server's `echo`, and a [`Session`] that reconnects with
//! backoff. Rows and operations are plain `serde_json::Value`s, built and
//! read through [`value`]; no schema code generation.
//!
//! Why not an existing crate: `ovsdb-client` 0.0.1 rides on jsonrpsee, has
//! no `ssl:` endpoints and no typed transaction errors; `ovsdb` 0.0.6 needs
//! models generated from the schema at build time, has no TLS either, and
//! calls itself heavily work in progress. OpenShift's northbound database is
//! reached over `ssl:`, and the protocol subset needed is small.
//!
//! # Layout
//! - [`endpoint`]: [`Endpoint`], parsing and printing `unix:`/`tcp:`/`ssl:`.
//! - [`tls`]: [`TlsPem`] -> rustls config; [`TlsSource`], re-read per
//!   connection attempt; [`TlsFiles`] (`OVN_CERT`, `OVN_PK`, `OVN_CA`).
//! - [`framing`]: splitting the byte stream into JSON objects.
//! - `connection`: reader and writer tasks, replies by id, `echo`
//!   answered, notifications forwarded ([`Notification`]).
//! - [`client`]: [`Client`]: connect, `list_dbs`, `echo`, `transact`,
//!   `monitor`.
//! - [`session`]: [`Session`] and [`Backoff`]: reconnecting.
//! - [`value`]: OVSDB atoms, sets, maps and operations as JSON.
//! - [`error`]: [`Error`]; [`Error::is_connection_error`] says whether to
//!   reconnect.

pub mod client;
mod connection;
pub mod endpoint;
pub mod error;
pub mod framing;
pub mod session;
pub mod tls;
pub mod value;

pub use client::Client;
pub use connection::Notification;
pub use endpoint::Endpoint;
pub use error::{Error, Result};
pub use session::{Backoff, Session};
pub use tls::{Pem, TlsFiles, TlsPem, TlsSource};
