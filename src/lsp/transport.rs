//! The stdio transport of `tq lsp`: Language Server Protocol messages framed by
//! `Content-Length` headers, read with hard caps. `lsp_server::Connection::stdio()`
//! allocated the body a header announced before reading it (`Content-Length:
//! 2000000000` took 1.5 GB with no body behind it) and read a header line without
//! end (`tq lsp < /dev/zero` grew until killed); here a header line is at most
//! [`MAX_HEADER_LINE`] bytes, a message has at most [`MAX_HEADERS`] header lines, and
//! a body at most [`MAX_BODY`] bytes, read as it arrives (a body shorter than its
//! header is an error, not an allocation). A framing error ends the server with the
//! reason (exit 1): the stream cannot be read further. A well-framed body that is not
//! JSON, or JSON that is not a message, is answered as JSON-RPC says (-32700 "Parse
//! error", -32600 "Invalid Request", with the request's id when it has one, else
//! `null`) and the server reads on.

use crossbeam_channel::{bounded, never, select, Receiver, Sender};
use lsp_server::{Connection, Message};
use std::io::{self, BufRead, Read, Write};
use std::thread;

/// Longest header line, in bytes (with its `\r\n`).
pub const MAX_HEADER_LINE: usize = 4096;
/// Most header lines of one message.
pub const MAX_HEADERS: usize = 32;
/// Largest message body, in bytes: a 1 MiB document (the largest file `tq` reads)
/// escaped in JSON, with room to spare.
pub const MAX_BODY: usize = 64 << 20;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// A well-framed message body: a message, or the JSON-RPC error that answers it.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// The framed body was not a message: the error response to send (a JSON-RPC
    /// response object, its `id` the request's when it had one, else `null`).
    Invalid(serde_json::Value),
}

/// JSON-RPC's code for a body that is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's code for JSON that is not a request, response or notification.
pub const INVALID_REQUEST: i64 = -32600;

fn error_response(id: serde_json::Value, code: i64, message: String) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    })
}

/// What a framed body is: a message, or the error response that answers it.
pub fn classify(body: &[u8]) -> Incoming {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Invalid(error_response(
                serde_json::Value::Null,
                PARSE_ERROR,
                format!("Parse error: the message body is not JSON ({e})"),
            ))
        }
    };
    let invalid = |id: serde_json::Value, why: String| {
        Incoming::Invalid(error_response(
            id,
            INVALID_REQUEST,
            format!("Invalid Request: {why}"),
        ))
    };
    let Some(object) = value.as_object() else {
        return invalid(
            serde_json::Value::Null,
            "a message is a JSON object (batches are not supported)".into(),
        );
    };
    // The id, when the object has one JSON-RPC allows (a number or a string): the
    // untagged `Message` would read an object id as no id, a notification.
    let id = match object.get("id") {
        None => serde_json::Value::Null,
        Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id.clone(),
        Some(other) => {
            return invalid(
                serde_json::Value::Null,
                format!("the id {other} is not a number or a string"),
            )
        }
    };
    // A number id the protocol's request ids cannot hold (`1.5`, `2^64 - 1`: they are
    // 32-bit integers): the untagged `Message` read such a request as a notification,
    // and it got no answer (probe36 h02: a `shutdown` with id 1.5 never completed).
    if let serde_json::Value::Number(n) = &id {
        if n.as_i64().and_then(|v| i32::try_from(v).ok()).is_none() {
            return invalid(
                id.clone(),
                format!("the id {n} is not a whole number from -2^31 to 2^31 - 1 or a string"),
            );
        }
    }
    // A method that is not a string would make the object a response to nothing.
    if let Some(m) = object.get("method").filter(|m| !m.is_string()) {
        return invalid(id, format!("the method {m} is not a string"));
    }
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(e) => invalid(
            id,
            format!("not a JSON-RPC request, response or notification ({e})"),
        ),
    }
}

/// Reads one message; `None` at the end of the input before a message starts.
/// A body that is not a message is an error here; [`read_incoming`] answers it.
pub fn read_message(r: &mut impl BufRead) -> io::Result<Option<Message>> {
    match read_incoming(r)? {
        None => Ok(None),
        Some(Incoming::Message(m)) => Ok(Some(m)),
        Some(Incoming::Invalid(e)) => Err(bad(format!(
            "malformed message: {}",
            e["error"]["message"].as_str().unwrap_or_default()
        ))),
    }
}

/// Reads one framed body; `None` at the end of the input before a message starts.
/// Framing errors are `Err`; a body that is not a message is [`Incoming::Invalid`].
pub fn read_incoming(r: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let mut size: Option<usize> = None;
    let mut headers = 0;
    loop {
        let mut line = Vec::new();
        let n = r
            .by_ref()
            .take(MAX_HEADER_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            if headers == 0 {
                return Ok(None);
            }
            return Err(bad("the input ended inside a message's headers"));
        }
        if line.len() > MAX_HEADER_LINE {
            return Err(bad(format!(
                "a header line is longer than {MAX_HEADER_LINE} bytes"
            )));
        }
        let Some(text) = line.strip_suffix(b"\r\n") else {
            return Err(bad(format!(
                "malformed header {:?} (a header line ends with \\r\\n)",
                String::from_utf8_lossy(&line)
            )));
        };
        if text.is_empty() {
            break;
        }
        headers += 1;
        if headers > MAX_HEADERS {
            return Err(bad(format!(
                "a message has more than {MAX_HEADERS} headers"
            )));
        }
        let text = String::from_utf8_lossy(text);
        let Some((name, value)) = text.split_once(':') else {
            return Err(bad(format!("malformed header {text:?}")));
        };
        if name.trim().eq_ignore_ascii_case("Content-Length") {
            let v = value.trim();
            let parsed: u128 = v
                .parse()
                .map_err(|_| bad(format!("Content-Length {v:?} is not a whole number")))?;
            if parsed > MAX_BODY as u128 {
                return Err(bad(format!(
                    "Content-Length {v} is over the limit of {MAX_BODY} bytes"
                )));
            }
            size = Some(parsed as usize);
        }
    }
    let size = size.ok_or_else(|| bad("a message has no Content-Length header"))?;
    // Read as it arrives: a header that overstates the body costs nothing up front.
    let mut body = Vec::new();
    r.by_ref().take(size as u64).read_to_end(&mut body)?;
    if body.len() < size {
        return Err(bad(format!(
            "the input ended after {} of the {size} bytes its Content-Length announced",
            body.len()
        )));
    }
    Ok(Some(classify(&body)))
}

/// Writes one JSON value with its `Content-Length` header.
pub fn write_json(out: &mut impl Write, v: &serde_json::Value) -> io::Result<()> {
    let body = v.to_string();
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())
}

/// The reader and writer threads of [`stdio`].
pub struct IoThreads {
    reader: thread::JoinHandle<io::Result<()>>,
    writer: thread::JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for both threads; the reader's error first (the cause when the server
    /// stopped because its input broke).
    pub fn join(self) -> io::Result<()> {
        let reader = self
            .reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader thread panicked")));
        let writer = self
            .writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")));
        reader.and(writer)
    }
}

/// A connection over standard input and output with the caps above.
pub fn stdio() -> (Connection, IoThreads) {
    let (writer_tx, writer_rx): (Sender<Message>, Receiver<Message>) = bounded(0);
    // The reader's own answers (to bodies that are not messages), written between
    // the server's messages; the writer ends when the server drops its sender.
    let (errors_tx, errors_rx) = bounded::<serde_json::Value>(0);
    let writer = thread::spawn(move || {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let mut errors = errors_rx;
        loop {
            select! {
                recv(writer_rx) -> msg => match msg {
                    Ok(msg) => msg.write(&mut out)?,
                    Err(_) => break,
                },
                recv(errors) -> e => match e {
                    Ok(e) => write_json(&mut out, &e)?,
                    Err(_) => errors = never(),
                },
            }
            out.flush()?;
        }
        Ok(())
    });
    let (reader_tx, reader_rx) = bounded::<Message>(0);
    let reader = thread::spawn(move || {
        let stdin = io::stdin();
        let mut input = stdin.lock();
        while let Some(incoming) = read_incoming(&mut input)? {
            match incoming {
                Incoming::Message(msg) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if reader_tx.send(msg).is_err() || exit {
                        break;
                    }
                }
                Incoming::Invalid(e) => {
                    if errors_tx.send(e).is_err() {
                        break;
                    }
                }
            }
        }
        Ok(())
    });
    (
        Connection {
            sender: writer_tx,
            receiver: reader_rx,
        },
        IoThreads { reader, writer },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> io::Result<Option<Message>> {
        read_message(&mut io::BufReader::new(bytes))
    }

    fn framed(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    #[test]
    fn a_framed_message_is_read() {
        let m = read(&framed(r#"{"jsonrpc":"2.0","method":"exit"}"#)).unwrap();
        assert!(matches!(m, Some(Message::Notification(n)) if n.method == "exit"));
        assert!(read(b"").unwrap().is_none());
    }

    #[test]
    fn hostile_framing_is_refused_without_allocating() {
        let err = |b: &[u8]| read(b).unwrap_err().to_string();
        // A body announced but not sent: refused by the cap or at the end of input.
        assert!(err(b"Content-Length: 2000000000\r\n\r\nxx").contains("over the limit"));
        assert!(err(b"Content-Length: 99999999999999999999999\r\n\r\n").contains("over the limit"));
        assert!(err(b"Content-Length: 1000\r\n\r\n{}").contains("ended after 2 of the 1000"));
        assert!(err(b"Content-Length: -1\r\n\r\n").contains("not a whole number"));
        // A header line without end (`/dev/zero`), too many headers, no length.
        assert!(err(&vec![0u8; 100_000]).contains("longer than"));
        assert!(err(&b"X: y\r\n".repeat(40)).contains("more than 32 headers"));
        assert!(err(b"X: y\r\n\r\n{}").contains("no Content-Length"));
        assert!(err(b"Content-Length: 5\n\n").contains("malformed header"));
        assert!(err(&framed("{bad}")).contains("malformed message"));
        assert!(err(&framed("[1, 2]")).contains("malformed message"));
        assert!(err(b"Content-Length: 3\r\n").contains("inside a message's headers"));
    }

    #[test]
    fn a_body_that_is_not_a_message_gets_its_json_rpc_error() {
        let answer = |body: &str| match read_incoming(&mut io::BufReader::new(&framed(body)[..])) {
            Ok(Some(Incoming::Invalid(e))) => e,
            other => panic!("{body}: {other:?}"),
        };
        let e = answer("{\"jsonrpc\": \"2.0\", \"method\": ");
        assert_eq!(
            (e["error"]["code"].as_i64(), &e["id"]),
            (Some(PARSE_ERROR), &serde_json::Value::Null)
        );
        for (body, id) in [
            ("[]", serde_json::Value::Null),
            ("42", serde_json::Value::Null),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":null}"#,
                serde_json::json!(7),
            ),
            (
                r#"{"jsonrpc":"2.0","id":"x","method":3}"#,
                serde_json::json!("x"),
            ),
            (
                r#"{"jsonrpc":"2.0","id":{"a":1},"method":"m"}"#,
                serde_json::Value::Null,
            ),
        ] {
            let e = answer(body);
            assert_eq!(
                e["error"]["code"].as_i64(),
                Some(INVALID_REQUEST),
                "{body}: {e}"
            );
            assert_eq!(e["id"], id, "{body}");
        }
        // JSON nested past serde_json's recursion limit: a parse error, not a stack overflow.
        let deep = "[".repeat(100_000);
        assert_eq!(answer(&deep)["error"]["code"].as_i64(), Some(PARSE_ERROR));
        // A message after an invalid one is read.
        let mut two = framed("nonsense");
        two.extend(framed(r#"{"jsonrpc":"2.0","method":"exit"}"#));
        let mut r = io::BufReader::new(&two[..]);
        assert!(matches!(
            read_incoming(&mut r),
            Ok(Some(Incoming::Invalid(_)))
        ));
        assert!(matches!(
            read_incoming(&mut r),
            Ok(Some(Incoming::Message(_)))
        ));
    }
}
