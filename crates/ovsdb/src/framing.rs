//! Splitting the byte stream into JSON-RPC messages. RFC 7047 sends JSON
//! objects back to back with no length prefix, so the [`Framer`] tracks
//! nesting, strings and escapes as bytes arrive (each byte is looked at
//! once, however the stream is cut) and hands out each complete object.

use serde_json::Value;

use crate::error::{excerpt, Error, Result};

/// The largest message accepted (a monitor's initial state of a big
/// northbound database stays well below it).
pub const MAX_MESSAGE: usize = 128 << 20;

/// Incremental splitter of back-to-back JSON objects.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned.
    scanned: usize,
    /// Where the current message starts in `buf`, once its `{` was seen.
    start: Option<usize>,
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Framer {
    /// Adds bytes read from the socket and returns every message they
    /// complete. An error means the stream cannot be resynchronised: the
    /// connection must be closed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Value>> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while self.scanned < self.buf.len() {
            let b = self.buf[self.scanned];
            let at = self.scanned;
            self.scanned += 1;
            if self.start.is_none() {
                match b {
                    b' ' | b'\t' | b'\r' | b'\n' => continue,
                    b'{' => {
                        self.start = Some(at);
                        self.depth = 1;
                        continue;
                    }
                    _ => {
                        return Err(Error::Malformed {
                            reason: format!(
                                "expected a JSON object, got {}",
                                excerpt(&String::from_utf8_lossy(&self.buf[at..]))
                            ),
                        })
                    }
                }
            }
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let start = self.start.take().unwrap_or(0);
                        out.push(parse(&self.buf[start..self.scanned])?);
                    }
                }
                _ => {}
            }
        }
        self.compact()?;
        Ok(out)
    }

    /// Drops consumed bytes; refuses a message that grows past the limit.
    fn compact(&mut self) -> Result<()> {
        let keep_from = self.start.unwrap_or(self.scanned);
        self.buf.drain(..keep_from);
        self.scanned -= keep_from;
        if let Some(s) = self.start.as_mut() {
            *s = 0;
        }
        if self.buf.len() > MAX_MESSAGE {
            return Err(Error::Malformed {
                reason: format!("message larger than {MAX_MESSAGE} bytes"),
            });
        }
        Ok(())
    }
}

fn parse(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| Error::Malformed {
        reason: format!(
            "invalid JSON ({e}) in {}",
            excerpt(&String::from_utf8_lossy(bytes))
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_back_to_back_objects_however_the_stream_is_cut() {
        let text = br#"{"id":1,"result":["a}\"{",{"x":[1,2]}],"error":null} {"method":"echo","params":[],"id":"echo"}"#;
        for cut in 1..text.len() {
            let mut f = Framer::default();
            let mut got = f.push(&text[..cut]).unwrap();
            got.extend(f.push(&text[cut..]).unwrap());
            assert_eq!(got.len(), 2, "cut at {cut}");
            assert_eq!(got[0]["result"][0], json!("a}\"{"));
            assert_eq!(got[1]["method"], json!("echo"));
        }
    }

    #[test]
    fn byte_by_byte() {
        let text = br#"{"a":"\\"}{"b":{}}"#;
        let mut f = Framer::default();
        let mut got = Vec::new();
        for b in text {
            got.extend(f.push(&[*b]).unwrap());
        }
        assert_eq!(got, vec![json!({"a": "\\"}), json!({"b": {}})]);
        assert!(f.buf.is_empty());
    }

    #[test]
    fn refuses_non_objects_and_bad_json() {
        let e = Framer::default().push(b"[1,2]").unwrap_err().to_string();
        assert!(e.contains("expected a JSON object, got [1,2]"), "{e}");
        let e = Framer::default()
            .push(b"HTTP/1.1 400")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a JSON object"), "{e}");
        let e = Framer::default()
            .push(b"{\"id\":1,}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid JSON"), "{e}");
    }
}
