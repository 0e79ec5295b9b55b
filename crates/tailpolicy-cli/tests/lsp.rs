//! `tailpolicy lsp` over a real pipe, spoken to as an editor would: JSON-RPC with
//! `Content-Length` framing. The corpus test opens every policy of the conformance corpus
//! and compares the server's diagnostics with `tailpolicy check --format json` on the same
//! files, position by position (UTF-16 columns from 0 against character columns from 1).
#![allow(clippy::print_stdout, reason = "the corpus test prints its table")]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

mod common;
use common::workspace_root;

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut server = Server {
            child,
            stdin,
            messages,
            next_id: 1,
        };
        server.request("initialize", json!({"capabilities": {}}));
        server.notify("initialized", json!({}));
        server
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next();
            if message["id"] == id {
                return message["result"].clone();
            }
        }
    }

    fn next(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answers")
    }

    /// Opens documents and waits for the diagnostics of each (in any order).
    fn diagnostics(&mut self, docs: &[(String, String)]) -> Vec<Vec<Value>> {
        for (uri, text) in docs {
            self.notify(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": uri, "languageId": "jsonc", "version": 1, "text": text}}),
            );
        }
        let mut out: Vec<Option<Vec<Value>>> = vec![None; docs.len()];
        while out.iter().any(Option::is_none) {
            let message = self.next();
            if message["method"] == "textDocument/publishDiagnostics" {
                let uri = message["params"]["uri"].as_str().unwrap();
                if let Some(i) = docs.iter().position(|(u, _)| u == uri) {
                    out[i] = Some(message["params"]["diagnostics"].as_array().unwrap().clone());
                }
            }
        }
        out.into_iter().map(Option::unwrap).collect()
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
}

/// The 1-based character column of a 0-based UTF-16 position.
fn char_column(text: &str, line: u64, utf16: u64) -> u64 {
    let line_text = text.split('\n').nth(line as usize).unwrap_or("");
    let mut units = 0;
    let mut chars = 0;
    for c in line_text.chars() {
        if units >= utf16 {
            break;
        }
        units += c.len_utf16() as u64;
        chars += 1;
    }
    chars + 1
}

fn corpus_policies() -> Option<Vec<(String, String)>> {
    let dir = std::env::var_os("TAILPOLICY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/conformance"))
        .join("headscale");
    if !dir.join("saas").is_dir() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "conformance corpus missing"
        );
        println!("skipped: conformance corpus not found at {}", dir.display());
        return None;
    }
    let mut out = Vec::new();
    for part in ["saas", "unit"] {
        let mut files = Vec::new();
        for folder in std::fs::read_dir(dir.join(part)).unwrap() {
            let folder = folder.unwrap().path();
            if !folder.is_dir() || folder.ends_with("vectors") {
                continue;
            }
            for file in std::fs::read_dir(&folder).unwrap() {
                files.push(file.unwrap().path());
            }
        }
        files.sort();
        for file in files {
            let case: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            if let Some(policy) = case["policy"].as_str() {
                let name = format!("{part}-{}", file.file_stem().unwrap().to_string_lossy());
                out.push((name, policy.to_owned()));
            }
        }
    }
    Some(out)
}

#[test]
fn diagnostics_positions_equal_check_json_on_every_corpus_policy() {
    let Some(policies) = corpus_policies() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    let mut docs = Vec::new();
    for (i, (name, text)) in policies.iter().enumerate() {
        let path = dir.path().join(format!("{i:04}-{name}.hujson"));
        std::fs::write(&path, text).unwrap();
        docs.push((format!("file://{}", path.display()), text.clone()));
        paths.push(path);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .arg("check")
        .args(&paths)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), policies.len());

    let mut server = Server::start();
    let published = server.diagnostics(&docs);
    server.stop();

    let (mut diagnostics, mut utf16_differs, mut with_diagnostics) = (0, 0, 0);
    for ((file, got), (_, text)) in files.iter().zip(&published).zip(&docs) {
        let want = file["diagnostics"].as_array().unwrap();
        let name = file["path"].as_str().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: {got:?} vs {want:?}");
        with_diagnostics += usize::from(!want.is_empty());
        for (g, w) in got.iter().zip(want) {
            diagnostics += 1;
            assert_eq!(g["code"], w["code"], "{name}");
            let message = g["message"].as_str().unwrap();
            assert_eq!(
                message.split("\nhelp: ").next(),
                w["message"].as_str(),
                "{name}"
            );
            for (end, line_key, column_key) in [
                ("start", "line", "column"),
                ("end", "end_line", "end_column"),
            ] {
                let at = &g["range"][end];
                let (line, character) = (
                    at["line"].as_u64().unwrap(),
                    at["character"].as_u64().unwrap(),
                );
                assert_eq!(line + 1, w[line_key].as_u64().unwrap(), "{name} {end} line");
                let column = char_column(text, line, character);
                assert_eq!(
                    column,
                    w[column_key].as_u64().unwrap(),
                    "{name} {end} column"
                );
                utf16_differs += usize::from(character + 1 != column);
            }
        }
    }
    println!(
        "lsp vs check --format json: {} policies ({} with diagnostics), {diagnostics} diagnostics, \
         all positions equal; {utf16_differs} positions where UTF-16 and character columns differ",
        policies.len(),
        with_diagnostics
    );
    assert!(diagnostics > 100, "{diagnostics}");
}

#[test]
fn a_tailpolicy_toml_and_its_inventory_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".git"), "").unwrap();
    std::fs::write(
        dir.path().join("tailpolicy.toml"),
        "inventory = [\"inventory.json\"]\n[lint.severity]\nempty-group = \"error\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("inventory.json"),
        r#"{"users": [{"name": "alice@example.com"}], "nodes": []}"#,
    )
    .unwrap();
    let policy = dir.path().join("policy.hujson");
    let text = r#"{"groups": {"group:empty": []}, "hosts": {"db": "100.64.0.9"}, "acls": [{"action": "accept", "src": ["group:empty", "nobody@example.com"], "dst": ["db:22"]}], "tests": [{"src": "nobody@example.com", "accept": ["db:22"]}]}"#;
    std::fs::write(&policy, text).unwrap();
    let uri = format!("file://{}", policy.display());
    let mut server = Server::start();
    let diagnostics = server.diagnostics(&[(uri, text.to_owned())]).remove(0);
    server.stop();
    let got: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    // The inventory knows no `nobody@example.com` (the test fails only with an inventory),
    // and the configuration makes an empty group an error.
    // `check` reads the same configuration and inventory by itself.
    let cli = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(["check", "--format", "json"])
        .arg(&policy)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&cli.stdout).unwrap();
    let want: Vec<&str> = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(got, want, "{diagnostics:?}");
    assert_eq!(want, ["E401"]);

    // Without the test, the configuration's severity shows.
    let text = r#"{"groups": {"group:empty": []}, "acls": [{"action": "accept", "src": ["group:empty"], "dst": ["*:*"]}]}"#;
    let uri = format!("file://{}", dir.path().join("other.hujson").display());
    let mut server = Server::start();
    let diagnostics = server.diagnostics(&[(uri, text.to_owned())]).remove(0);
    server.stop();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "TP009");
    assert_eq!(
        diagnostics[0]["severity"], 1,
        "an error, as tailpolicy.toml says"
    );
}

#[test]
fn input_that_is_not_the_protocol_gets_a_plain_error() {
    // Someone runs `tailpolicy lsp` by hand and types at it, or pipes a file into it.
    let garbage = common::run_in(&workspace_root(), &["lsp"], Some("{\"acls\": []}\n"));
    assert_eq!(garbage.code, 2, "{}", garbage.stderr);
    assert!(
        garbage
            .stderr
            .contains("no `initialize` request could be read")
            && garbage.stderr.contains("started by an editor"),
        "{}",
        garbage.stderr
    );
    assert!(
        !garbage.stderr.contains("disconnected channel"),
        "{}",
        garbage.stderr
    );

    let closed = common::run_in(&workspace_root(), &["lsp"], Some(""));
    assert_eq!(closed.code, 2, "{}", closed.stderr);
    assert!(
        closed.stderr.contains("before an `initialize` request")
            || closed.stderr.contains("no `initialize` request"),
        "{}",
        closed.stderr
    );
}
