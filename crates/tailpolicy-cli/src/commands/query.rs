//! `tailpolicy query POLICY --src SRC --dst DST:PORT [--proto P]` and `--batch FILE`.
//!
//! Exit status: 0 when allowed (every query, in batch mode), 1 when denied, 2 for invalid
//! input. In batch mode every line gets one output line, an answer or an error object
//! (`{"line", "error"}`); any error makes the status 2, after the whole batch.

use std::io::{self, BufRead, Write};

use serde::Serialize;
use tailpolicy::output::{QueryOutput, SshOutput};
use tailpolicy::query::{Answer, Simulator};

use crate::exit::ExitStatus;
use crate::input::policy::{COLUMNS, Source, load_for};
use crate::input::{STDIN, describe_io_error, display_path};
use crate::render::{write_answer, write_ssh_answer};
use crate::{OutputFormat, QueryArgs};

/// One `--batch` input line.
#[derive(Debug, PartialEq, Eq)]
struct BatchQuery {
    src: String,
    dst: String,
    proto: Option<String>,
}

/// The output line for a batch line that gets no answer.
#[derive(Serialize)]
struct BatchError<'a> {
    /// 1-based line number in the batch input.
    line: usize,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    src: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst: Option<&'a str>,
}

pub fn run(args: &QueryArgs, out: &mut impl Write, err: &mut impl Write) -> io::Result<ExitStatus> {
    let loaded = match load_for(&args.policy, &args.inventory, err)? {
        Ok(loaded) => loaded,
        Err(status) => return Ok(status),
    };
    let simulator = Simulator::new(&loaded.policy, loaded.inventory.as_ref());
    let source = loaded.source();
    if let Some(batch) = &args.batch {
        return run_batch(&source, &simulator, batch, out, err);
    }
    let (Some(src), Some(dst)) = (&args.src, &args.dst) else {
        writeln!(
            err,
            "error: `query` needs `--src` and `--dst`, or `--batch FILE`"
        )?;
        return Ok(ExitStatus::Failure);
    };
    if let Some(login) = &args.ssh_user {
        return run_ssh(&source, &simulator, src, dst, login, args.format, out, err);
    }
    match simulator.query(src, dst, args.proto.as_deref()) {
        Ok(answer) => {
            let allowed = answer.allowed;
            match args.format {
                OutputFormat::Json => {
                    serde_json::to_writer(&mut *out, &json_answer(&source, answer))?;
                    writeln!(out)?;
                }
                OutputFormat::Human => write_answer(&source, &answer, out)?,
            }
            Ok(if allowed {
                ExitStatus::Success
            } else {
                ExitStatus::PolicyErrors
            })
        }
        Err(error) => {
            writeln!(err, "error: {error}")?;
            Ok(ExitStatus::Failure)
        }
    }
}

fn run_batch(
    source: &Source<'_>,
    simulator: &Simulator<'_>,
    path: &std::path::Path,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let shown = display_path(path);
    let mut reader: Box<dyn BufRead> = if path.as_os_str() == STDIN {
        Box::new(io::BufReader::new(io::stdin()))
    } else {
        match std::fs::File::open(path) {
            Ok(file) => Box::new(io::BufReader::new(file)),
            Err(error) => {
                writeln!(
                    err,
                    "error: cannot read `{shown}`: {}",
                    describe_io_error(&error)
                )?;
                return Ok(ExitStatus::Failure);
            }
        }
    };
    let mut status = ExitStatus::Success;
    let (mut failed, mut answered) = (0usize, 0usize);
    let mut bytes = Vec::new();
    for number in 1.. {
        bytes.clear();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                writeln!(
                    err,
                    "error: cannot read `{shown}` at line {number}: {}",
                    describe_io_error(&error)
                )?;
                return Ok(ExitStatus::Failure);
            }
        }
        // Read as bytes so that one line that is not UTF-8 does not end the batch.
        let line = String::from_utf8_lossy(&bytes);
        let line = if number == 1 {
            line.trim_start_matches('\u{feff}')
        } else {
            &line
        };
        if line.trim().is_empty() {
            continue;
        }
        let outcome = if std::str::from_utf8(&bytes).is_err() {
            Err(BatchFailure::plain("the line is not valid UTF-8"))
        } else {
            answer_batch_line(simulator, line)
        };
        match outcome {
            Ok(answer) => {
                answered += 1;
                if !answer.allowed {
                    status = status.max(ExitStatus::PolicyErrors);
                }
                serde_json::to_writer(&mut *out, &json_answer(source, answer))?;
            }
            Err(failure) => {
                failed += 1;
                status = ExitStatus::Failure;
                serde_json::to_writer(
                    &mut *out,
                    &BatchError {
                        line: number,
                        error: &failure.message,
                        src: failure.src.as_deref(),
                        dst: failure.dst.as_deref(),
                    },
                )?;
            }
        }
        writeln!(out)?;
    }
    if failed > 0 {
        writeln!(
            err,
            "error: {failed} of {} lines of `{shown}` could not be answered; their output \
             lines hold an `error` and the input `line` number",
            failed + answered
        )?;
    }
    Ok(status)
}

/// Why a batch line got no answer, with the query when the line could be read.
struct BatchFailure {
    message: String,
    src: Option<String>,
    dst: Option<String>,
}

impl BatchFailure {
    fn plain(message: impl Into<String>) -> Self {
        BatchFailure {
            message: message.into(),
            src: None,
            dst: None,
        }
    }
}

fn answer_batch_line(simulator: &Simulator<'_>, line: &str) -> Result<Answer, BatchFailure> {
    let query = parse_batch_line(line).map_err(BatchFailure::plain)?;
    simulator
        .query(&query.src, &query.dst, query.proto.as_deref())
        .map_err(|error| BatchFailure {
            message: error.to_string(),
            src: Some(query.src),
            dst: Some(query.dst),
        })
}

/// The fields a batch line may have.
const BATCH_FIELDS: &str = "`src`, `dst` and optionally `proto`";

/// Reads `{"src": ..., "dst": ..., "proto": ...}`, saying in plain words what is wrong
/// (serde's own messages name Rust types).
fn parse_batch_line(line: &str) -> Result<BatchQuery, String> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|error| {
        // serde_json appends " at line 1 column N"; within one line, the column is enough.
        let text = error.to_string();
        let what = text.split(" at line ").next().unwrap_or(&text);
        // `ident` is the parser's word for `true`, `false` and `null`.
        let what = what.replace("expected ident", "expected a value");
        format!(
            "not valid JSON ({what} at column {}); write one object per line, like \
             {{\"src\": \"tag:ci\", \"dst\": \"db:5432\"}}",
            error.column()
        )
    })?;
    let serde_json::Value::Object(fields) = value else {
        return Err(format!(
            "expected a JSON object with {BATCH_FIELDS}, found {}",
            json_kind(&value)
        ));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|key| !matches!(key.as_str(), "src" | "dst" | "proto"))
    {
        return Err(format!(
            "unknown field `{unknown}`: a line has {BATCH_FIELDS}"
        ));
    }
    let text = |name: &str| match fields.get(name) {
        Some(serde_json::Value::String(text)) => Ok(text.clone()),
        None | Some(serde_json::Value::Null) => Err(format!("`{name}` is missing")),
        Some(other) => Err(format!(
            "`{name}` must be a string, found {}",
            json_kind(other)
        )),
    };
    let proto = match fields.get("proto") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => Some(text.clone()),
        // `--proto` takes a number too; `6.5` or `-1` reach the simulator and are refused there.
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        Some(other) => {
            return Err(format!(
                "`proto` must be a protocol name or number, found {}",
                json_kind(other)
            ));
        }
    };
    Ok(BatchQuery {
        src: text("src")?,
        dst: text("dst")?,
        proto,
    })
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn json_answer(source: &Source<'_>, answer: Answer) -> QueryOutput {
    QueryOutput::new(answer, source.lines(), COLUMNS)
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call site, all inputs of the SSH query"
)]
fn run_ssh(
    source: &Source<'_>,
    simulator: &Simulator<'_>,
    src: &str,
    dst: &str,
    login: &str,
    format: OutputFormat,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<ExitStatus> {
    let answer = match simulator.ssh_query(src, dst, login) {
        Ok(answer) => answer,
        // Only when the host alone would have been answered: then the port is the mistake.
        Err(_)
            if let Some(host) = without_port(dst)
                && simulator.ssh_query(src, host, login).is_ok() =>
        {
            writeln!(
                err,
                "error: with `--ssh-user`, the destination is a host without a port: write \
                 `--dst {host}`, not `{dst}` (Tailscale SSH is port 22)"
            )?;
            return Ok(ExitStatus::Failure);
        }
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(ExitStatus::Failure);
        }
    };
    let allowed = answer.allowed;
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut *out, &SshOutput::new(answer, source.lines(), COLUMNS))?;
            writeln!(out)?;
        }
        OutputFormat::Human => {
            let output = SshOutput::new(answer, source.lines(), COLUMNS);
            write_ssh_answer(&output, src, dst, login, out)?;
        }
    }
    Ok(if allowed {
        ExitStatus::Success
    } else {
        ExitStatus::PolicyErrors
    })
}

/// `host` of `host:port` or `[addr]:port`, when the part after the last colon is a number.
fn without_port(dst: &str) -> Option<&str> {
    let (host, port) = dst.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']'),
        None => Some(host).filter(|h| !h.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_lines_are_read_or_refused_in_plain_words() {
        let query = |src: &str, dst: &str, proto: Option<&str>| BatchQuery {
            src: src.into(),
            dst: dst.into(),
            proto: proto.map(Into::into),
        };
        assert_eq!(
            parse_batch_line(r#"{"src": "a", "dst": "b:1"}"#),
            Ok(query("a", "b:1", None))
        );
        assert_eq!(
            parse_batch_line(r#"{"src": "a", "dst": "b:1", "proto": 6}"#),
            Ok(query("a", "b:1", Some("6")))
        );
        assert_eq!(
            parse_batch_line(r#"{"src": "a", "dst": "b:1", "proto": null}"#),
            Ok(query("a", "b:1", None))
        );
        let refused = |line: &str| parse_batch_line(line).unwrap_err();
        assert_eq!(
            refused(r#"{"src": "a", "dst": "b:1", "port": 1}"#),
            "unknown field `port`: a line has `src`, `dst` and optionally `proto`"
        );
        assert_eq!(refused(r#"{"dst": "b:1"}"#), "`src` is missing");
        assert_eq!(
            refused(r#"{"src": "a", "dst": 1}"#),
            "`dst` must be a string, found a number"
        );
        assert_eq!(
            refused(r#"{"src": "a", "dst": "b:1", "proto": true}"#),
            "`proto` must be a protocol name or number, found a boolean"
        );
        assert_eq!(
            refused(r#"["a", "b:1"]"#),
            "expected a JSON object with `src`, `dst` and optionally `proto`, found an array"
        );
        let not_json = refused("nope");
        assert!(
            not_json.starts_with("not valid JSON (expected a value at column 2)"),
            "{not_json}"
        );
        let cut = refused(r#"{"src": "a""#);
        assert!(cut.starts_with("not valid JSON (EOF"), "{cut}");
        for message in [not_json, cut] {
            assert!(
                !message.contains("struct") && !message.contains("line 1"),
                "{message}"
            );
        }
    }
}
