//! The stdio transport of `tq lsp`: Language Server Protocol messages framed by
//! `Content-Length` headers, read with hard caps. `lsp_server::Connection::stdio()`
//! allocated the body a header announced before reading it (`Content-Length:
//! 2000000000` took 1.5 GB with no body behind it) and read a header line without
//! end (`tq lsp < /dev/zero` grew until killed); here a header line is at most
//! [`MAX_HEADER_LINE`] bytes, a message has at most [`MAX_HEADERS`] header lines, and
//! a body at most [`MAX_BODY`] bytes, read as it arrives (a body shorter than its
//! header is an error, not an allocation). Any framing error ends the server with
//! the reason (exit 1).

use crossbeam_channel::{bounded, Receiver, Sender};
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

/// Reads one message; `None` at the end of the input before a message starts.
pub fn read_message(r: &mut impl BufRead) -> io::Result<Option<Message>> {
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
    let msg: Message =
        serde_json::from_slice(&body).map_err(|e| bad(format!("malformed message: {e}")))?;
    Ok(Some(msg))
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
    let writer = thread::spawn(move || {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        for msg in writer_rx {
            msg.write(&mut out)?;
            out.flush()?;
        }
        Ok(())
    });
    let (reader_tx, reader_rx) = bounded::<Message>(0);
    let reader = thread::spawn(move || {
        let stdin = io::stdin();
        let mut input = stdin.lock();
        while let Some(msg) = read_message(&mut input)? {
            let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
            if reader_tx.send(msg).is_err() || exit {
                break;
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
        assert!(err(b"Content-Length: 3\r\n").contains("inside a message's headers"));
    }
}
