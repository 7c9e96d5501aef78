//! The client against a fake server on an in-memory pipe: replies, echo,
//! notifications, and every kind of malformed or hostile input.

use std::time::Duration;

use ovsdb::{Client, Error};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// The server end: reads framed requests, writes raw bytes.
struct Peer {
    io: DuplexStream,
    framer: ovsdb::framing::Framer,
    queue: Vec<Value>,
}

impl Peer {
    async fn recv(&mut self) -> Value {
        loop {
            if !self.queue.is_empty() {
                return self.queue.remove(0);
            }
            let mut buf = [0u8; 4096];
            let n = self.io.read(&mut buf).await.unwrap();
            assert!(n > 0, "client closed the pipe");
            self.queue.extend(self.framer.push(&buf[..n]).unwrap());
        }
    }

    async fn send(&mut self, raw: &str) {
        self.io.write_all(raw.as_bytes()).await.unwrap();
    }
}

fn pair() -> (Client, Peer) {
    let (a, b) = tokio::io::duplex(1 << 20);
    let client = Client::from_stream(a, "fake").with_timeout(Duration::from_secs(2));
    let peer = Peer {
        io: b,
        framer: Default::default(),
        queue: Vec::new(),
    };
    (client, peer)
}

#[tokio::test]
async fn transact_round_trip_and_echo_from_the_server() {
    let (client, mut peer) = pair();
    let server = tokio::spawn(async move {
        // The server asks first; the client must answer with the same id.
        peer.send(r#"{"method":"echo","params":["x"],"id":"echo"}"#)
            .await;
        // The answer and the client's own request may come in either order.
        let (a, b) = (peer.recv().await, peer.recv().await);
        let (answer, req) = if a["id"] == "echo" { (a, b) } else { (b, a) };
        assert_eq!(
            answer,
            json!({"id": "echo", "result": ["x"], "error": null})
        );
        assert_eq!(req["method"], "transact");
        assert_eq!(req["params"][0], "OVN_Northbound");
        let id = req["id"].clone();
        // Split across writes, with a notification in between.
        peer.send(r#"{"id":null,"method":"update","params":[null,{}]}{"id":"#)
            .await;
        peer.send(&format!(r#"{id},"result":[{{"count":1}}],"error":null}}"#))
            .await;
        peer
    });
    let mut updates = client.take_updates().unwrap();
    let r = client
        .transact(
            "OVN_Northbound",
            vec![json!({"op": "delete", "table": "T", "where": []})],
        )
        .await
        .unwrap();
    assert_eq!(r, vec![json!({"count": 1})]);
    let n = updates.recv().await.unwrap();
    assert_eq!(n.method, "update");
    server.await.unwrap();
}

#[tokio::test]
async fn rpc_error_and_refused_transaction_keep_the_connection() {
    let (client, mut peer) = pair();
    let server = tokio::spawn(async move {
        let req = peer.recv().await;
        peer.send(
            &json!({"id": req["id"], "result": null, "error": "unknown database"}).to_string(),
        )
        .await;
        let req = peer.recv().await;
        let result = json!([{"error": "constraint violation", "details": "duplicate"}, null]);
        peer.send(&json!({"id": req["id"], "result": result, "error": null}).to_string())
            .await;
        let req = peer.recv().await;
        peer.send(&json!({"id": req["id"], "result": ["routeagent"], "error": null}).to_string())
            .await;
        peer
    });
    let e = client.list_dbs().await.unwrap_err();
    assert!(matches!(e, Error::Rpc { .. }), "{e}");
    assert_eq!(e.to_string(), "OVSDB list_dbs failed: \"unknown database\"");
    let ops = vec![
        json!({"op": "insert", "table": "Logical_Router_Policy", "row": {}}),
        json!({"op": "mutate", "table": "Logical_Router"}),
    ];
    let e = client.transact("OVN_Northbound", ops).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "OVSDB transaction refused at operation 0 (insert Logical_Router_Policy): constraint violation: duplicate"
    );
    assert!(!e.is_connection_error());
    client.echo().await.unwrap();
    assert!(client.closed().is_none());
    server.await.unwrap();
}

#[tokio::test]
async fn reply_of_the_wrong_shape_is_malformed() {
    let (client, mut peer) = pair();
    let server = tokio::spawn(async move {
        let req = peer.recv().await;
        peer.send(&json!({"id": req["id"]}).to_string()).await;
        let req = peer.recv().await;
        peer.send(
            &json!({"id": req["id"], "result": {"not": "an array"}, "error": null}).to_string(),
        )
        .await;
        let req = peer.recv().await;
        // Unknown id and a stray value: ignored, the real reply follows.
        peer.send(r#"{"id":999,"result":[],"error":null}{"hello":1}"#)
            .await;
        peer.send(&json!({"id": req["id"], "result": ["other"], "error": null}).to_string())
            .await;
        peer
    });
    let e = client.echo().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("reply to echo has neither result nor error"),
        "{e}"
    );
    let e = client.transact("DB", vec![]).await.unwrap_err();
    assert!(
        e.to_string().contains("transact result is not an array"),
        "{e}"
    );
    let e = client.echo().await.unwrap_err();
    assert!(
        e.to_string().contains("echo did not return its params"),
        "{e}"
    );
    assert!(client.closed().is_none());
    server.await.unwrap();
}

#[tokio::test]
async fn garbage_closes_the_connection_and_fails_waiting_calls() {
    let (client, mut peer) = pair();
    let server = tokio::spawn(async move {
        let _req = peer.recv().await;
        peer.send("HTTP/1.1 400 Bad Request\r\n\r\n").await;
        peer
    });
    let e = client.echo().await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("expected a JSON object, got HTTP/1.1 400"),
        "{e}"
    );
    let _peer = server.await.unwrap();
    let e = client.echo().await.unwrap_err();
    assert!(matches!(e, Error::Closed { .. }), "{e}");
    assert!(e.is_connection_error());
}

#[tokio::test]
async fn invalid_json_inside_an_object_is_malformed() {
    let (client, mut peer) = pair();
    let server = tokio::spawn(async move {
        let _req = peer.recv().await;
        peer.send(r#"{"id":1,"result":[tru]}"#).await;
        peer
    });
    let e = client.echo().await.unwrap_err();
    assert!(e.to_string().contains("invalid JSON"), "{e}");
    drop(server.await.unwrap());
}

#[tokio::test]
async fn server_hangup_and_silence() {
    let (client, mut peer) = pair();
    let client = client.with_timeout(Duration::from_millis(200));
    // Silence: the request times out, the connection stays.
    let req = async {
        let _ = peer.recv().await;
    };
    let (r, _) = tokio::join!(client.echo(), req);
    let e = r.unwrap_err();
    assert_eq!(e.to_string(), "OVSDB echo got no reply within 200ms");
    // Hang-up: waiting and later calls see Closed.
    drop(peer);
    let e = client.echo().await.unwrap_err();
    assert!(matches!(e, Error::Closed { .. }), "{e}");
    assert!(client.closed().is_some());
}
