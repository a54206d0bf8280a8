//! The client end of a `tq lsp` process for the tests: framed JSON-RPC over the child's
//! stdio, requests and notifications, and helpers for positions, hovers and hints.

use super::*;

/// The client end of a `tq lsp` process.
pub(crate) struct Client {
    pub(crate) child: Child,
    pub(crate) stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications and server requests received while waiting for something else.
    pub(crate) backlog: Vec<Value>,
}

/// Reads one framed message; `None` at the end of the stream.
pub(crate) fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0u8; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

pub(crate) fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    /// A server without the verdict cache (tests must not read each other's verdicts
    /// or write beside problems/).
    pub(crate) fn start() -> Client {
        Client::start_with(&[("TQ_NO_CACHE", "1")])
    }

    pub(crate) fn start_with(env: &[(&str, &str)]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tq"))
            .arg("lsp")
            .env_remove("TQ_NO_CACHE")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tq lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(m) = read_message(&mut r) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            rx,
            next_id: 0,
            backlog: Vec::new(),
        }
    }

    pub(crate) fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    pub(crate) fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message, answering the server's own requests (refreshes) on the way.
    pub(crate) fn next(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) => {
                    if m.get("method").is_some() && m.get("id").is_some() {
                        let id = m["id"].clone();
                        self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
                        self.backlog.push(m);
                        continue;
                    }
                    return Some(m);
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => panic!("tq lsp closed its output"),
            }
        }
    }

    /// Sends a request and waits for its response (the whole response object).
    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let m = self
                .next(deadline)
                .unwrap_or_else(|| panic!("no response to {method} within 120 s"));
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.backlog.push(m);
        }
    }

    /// The result of a request, which must not be an error.
    pub(crate) fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    /// Waits for the `publishDiagnostics` of `uri` at `version`.
    pub(crate) fn diagnostics(&mut self, uri: &str, version: i64, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let matches = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        };
        if let Some(k) = self.backlog.iter().position(matches) {
            return self.backlog.remove(k)["params"].clone();
        }
        loop {
            let m = self
                .next(deadline)
                .unwrap_or_else(|| panic!("no diagnostics for {uri} version {version}"));
            if matches(&m) {
                return m["params"].clone();
            }
            self.backlog.push(m);
        }
    }

    pub(crate) fn initialize(&mut self) -> Value {
        let caps = json!({
            "workspace": {"inlayHint": {"refreshSupport": true}, "codeLens": {"refreshSupport": true}},
            "textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}}
        });
        let r = self.result(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": caps}),
        );
        self.notify("initialized", json!({}));
        r
    }

    pub(crate) fn open(&mut self, uri: &str, text: &str, version: i64) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "tq", "version": version, "text": text}}),
        );
    }

    pub(crate) fn change(&mut self, uri: &str, text: &str, version: i64) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// shutdown, exit, and the process's exit status.
    pub(crate) fn finish(mut self) -> std::process::ExitStatus {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "shutdown failed: {r}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "tq lsp did not exit after `exit`"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The (line, UTF-16 column) of the first occurrence of `needle` in `text`, plus `k`
/// characters.
pub(crate) fn pos_of(text: &str, needle: &str, k: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col = before[before.rfind('\n').map(|i| i + 1).unwrap_or(0)..]
        .encode_utf16()
        .count()
        + k;
    json!({"line": line, "character": col})
}

pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    pos_of(text, needle, 0)["line"].as_u64().unwrap() as usize
}

pub(crate) fn hover_text(c: &mut Client, uri: &str, pos: Value) -> String {
    let r = c.result(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    r["contents"]["value"].as_str().unwrap_or("").to_string()
}

/// Polls the inlay hints of a document until no claim is still being decided.
pub(crate) fn settled_hints(
    c: &mut Client,
    uri: &str,
    lines: usize,
    timeout: Duration,
) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let r = c.result(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}}}),
        );
        let hints = r.as_array().cloned().unwrap_or_default();
        if !hints.is_empty()
            && hints
                .iter()
                .all(|h| !h["label"].as_str().unwrap_or("").contains("deciding"))
        {
            return hints;
        }
        assert!(
            Instant::now() < deadline,
            "claims still undecided after {timeout:?}: {hints:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
