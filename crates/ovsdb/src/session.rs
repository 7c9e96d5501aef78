//! [`Session`]: a client that reconnects. It keeps at most one open
//! [`Client`]; a connection error drops it, and the next call connects
//! again once the exponential [`Backoff`] allows (0.5 s doubling to 30 s,
//! back to the start after a success). It never sleeps: a call too early
//! returns [`Error::Backoff`] with the time left, so a level-triggered
//! loop can schedule its next pass.

use std::time::{Duration, Instant};

use crate::client::Client;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::tls::TlsSource;
use std::sync::Arc;

/// Exponential backoff between connection attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    delay: Duration,
    next: Option<Instant>,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

impl Backoff {
    /// Starts at `min`, doubles per failure, stays at or below `max`.
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max,
            delay: min,
            next: None,
        }
    }

    /// Time until the next attempt is allowed (zero: now).
    pub fn remaining(&self, now: Instant) -> Duration {
        self.next
            .map(|n| n.saturating_duration_since(now))
            .unwrap_or_default()
    }

    /// Records a failed attempt at `now`.
    pub fn failed(&mut self, now: Instant) {
        self.next = Some(now + self.delay);
        self.delay = (self.delay * 2).min(self.max);
    }

    /// Records a success: the next failure waits `min` again.
    pub fn succeeded(&mut self) {
        self.delay = self.min;
        self.next = None;
    }
}

/// A reconnecting OVSDB client for one endpoint.
#[derive(Debug)]
pub struct Session {
    endpoint: Endpoint,
    tls: Option<Arc<dyn TlsSource>>,
    client: Option<Client>,
    backoff: Backoff,
    last_error: Option<String>,
}

impl Session {
    /// A session that connects on first use; `tls` is read again before
    /// every connection attempt (rotated certificates are picked up on
    /// reconnect).
    pub fn new(endpoint: Endpoint, tls: Option<Arc<dyn TlsSource>>) -> Session {
        Session {
            endpoint,
            tls,
            client: None,
            backoff: Backoff::default(),
            last_error: None,
        }
    }

    /// Replaces the backoff (tests use short ones).
    pub fn with_backoff(mut self, backoff: Backoff) -> Session {
        self.backoff = backoff;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether a connection is open (as far as the client knows).
    pub fn is_connected(&self) -> bool {
        self.client.as_ref().is_some_and(|c| c.closed().is_none())
    }

    /// The last connection error, shown with its causes.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The open client, connecting first if there is none (or it closed).
    /// Too soon after a failure: [`Error::Backoff`].
    pub async fn client(&mut self) -> Result<&Client> {
        if let Some(reason) = self.client.as_ref().and_then(Client::closed) {
            tracing::info!(endpoint = %self.endpoint, %reason, "OVSDB connection lost");
            self.client = None;
            self.backoff.failed(Instant::now());
            self.last_error = Some(reason);
        }
        if self.client.is_none() {
            let retry_in = self.backoff.remaining(Instant::now());
            if !retry_in.is_zero() {
                return Err(Error::Backoff {
                    endpoint: self.endpoint.to_string(),
                    retry_in,
                    last: self.last_error.clone(),
                });
            }
            let attempt = async {
                let pem = match &self.tls {
                    Some(src) => Some(src.load().await?),
                    None => None,
                };
                Client::connect(&self.endpoint, pem.as_ref()).await
            };
            match attempt.await {
                Ok(c) => {
                    tracing::info!(endpoint = %self.endpoint, "OVSDB connected");
                    self.backoff.succeeded();
                    self.last_error = None;
                    self.client = Some(c);
                }
                Err(e) => {
                    self.backoff.failed(Instant::now());
                    self.last_error = Some(errchain::Chain(&e).to_string());
                    return Err(e);
                }
            }
        }
        Ok(self.client.as_ref().unwrap())
    }

    /// Tells the session how a call on its client ended: a connection
    /// error drops the client (the next [`Session::client`] reconnects).
    pub fn observe<T>(&mut self, res: &Result<T>) {
        if let Err(e) = res {
            if e.is_connection_error() && !matches!(e, Error::Backoff { .. }) {
                self.client = None;
                self.backoff.failed(Instant::now());
                self.last_error = Some(errchain::Chain(e).to_string());
            }
        }
    }

    /// Closes the connection, if any.
    pub fn disconnect(&mut self) {
        self.client = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let t0 = Instant::now();
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(2));
        assert!(b.remaining(t0).is_zero());
        let waits: Vec<_> = (0..4)
            .map(|_| {
                b.failed(t0);
                b.remaining(t0)
            })
            .collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 2000].map(Duration::from_millis).to_vec()
        );
        b.succeeded();
        assert!(b.remaining(t0).is_zero());
        b.failed(t0);
        assert_eq!(b.remaining(t0), Duration::from_millis(500));
    }

    #[tokio::test]
    async fn unreachable_endpoint_backs_off() {
        let dir = tempfile::tempdir().unwrap();
        let ep = Endpoint::Unix(dir.path().join("nothing.sock"));
        let mut s = Session::new(ep, None);
        let e = s.client().await.unwrap_err();
        assert!(matches!(e, Error::Connect { .. }), "{e}");
        assert!(
            s.last_error().unwrap().contains("No such file"),
            "{:?}",
            s.last_error()
        );
        let e = s.client().await.unwrap_err();
        assert!(matches!(e, Error::Backoff { .. }), "{e}");
        assert!(e.to_string().contains("next attempt in"), "{e}");
        assert!(
            e.to_string()
                .contains("; last attempt: cannot connect to OVSDB"),
            "the reason stays visible between attempts: {e}"
        );
    }
}
