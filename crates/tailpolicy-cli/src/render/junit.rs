//! JUnit XML for `tailpolicy test --format junit`: one test suite per block, one test case
//! per assertion, written by `quick-junit` (which escapes `<`, `&` and quotes).

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use tailpolicy::policy_tests::{Assertion, Block};

use super::simulate::block_name;
use crate::input::policy::Source;

pub fn write_junit(
    source: &Source<'_>,
    path: &str,
    assertions: &[Assertion],
    out: &mut impl Write,
) -> io::Result<()> {
    let mut report = Report::new("tailpolicy");
    for block in [Block::Tests, Block::SshTests] {
        let mut suite = TestSuite::new(block_name(block));
        for a in assertions.iter().filter(|a| a.block == block) {
            let (line, _) = source.position(a.span);
            let name = format!(
                "{}[{}] {} {} from {}",
                block_name(block),
                a.index,
                a.expect,
                a.target,
                a.src
            );
            let status = if a.passed {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                // An attribute's newlines become spaces when read (XML normalizes them), and
                // quick-junit writes them raw: one line there, the whole text in the body.
                status
                    .set_message(a.detail.replace(['\r', '\n'], " "))
                    .set_description(format!("{path}:{line}: {}", a.detail));
                status
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(path);
            case.extra.insert("file".into(), path.into());
            case.extra.insert("line".into(), line.to_string().into());
            suite.add_test_case(case);
        }
        if !suite.test_cases.is_empty() {
            report.add_test_suite(suite);
        }
    }
    report.serialize(&mut *out).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use tailpolicy::Span;

    use super::*;
    use crate::input::policy::Source;

    #[test]
    fn newlines_and_quotes_in_attributes_are_escaped() {
        let text = "{\n  \"tests\": []\n}";
        let source = Source::new(text);
        let failed = Assertion {
            block: Block::Tests,
            index: 0,
            src: "tag:a".into(),
            expect: "deny",
            target: "db:1".into(),
            passed: false,
            undetermined: None,
            detail: "allowed by \"acls[0]\"\n<second line> & more".into(),
            span: Span::new(4, 11),
            rules: Vec::new(),
        };
        let mut out = Vec::new();
        write_junit(&source, "p.hujson", &[failed], &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert!(xml.contains("line=\"2\""), "{xml}");
        let message = xml.split("message=\"").nth(1).unwrap();
        let message = &message[..message.find('"').unwrap()];
        assert!(
            !message.contains('\n') && !message.contains('<'),
            "{message}"
        );
        assert_eq!(
            message,
            "allowed by &quot;acls[0]&quot; &lt;second line&gt; &amp; more"
        );
        assert!(
            xml.contains("&quot;\n&lt;second line&gt;"),
            "the body keeps the lines: {xml}"
        );
    }
}
