"""Protocol tests of `tailpolicy lsp` through a third-party client: pygls's LanguageClient.

Run by scripts/test.sh (scripts/lsp-tests.sh) as `python3 client_test.py BINARY REPO`.
Each capability is tested on the Depot example and on broken documents; the closing line
is `N passed, N failed`. Exits non-zero when a test fails.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient

BINARY = sys.argv[1]
REPO = Path(sys.argv[2])
DEPOT = (REPO / "fixtures/depot/policy.hujson").read_text()


class Client(LanguageClient):
    def __init__(self):
        super().__init__("tailpolicy-test", "1")
        self.published = []
        self.event = asyncio.Event()

        @self.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: t.PublishDiagnosticsParams):
            self.published.append(params)
            self.event.set()

    async def diagnostics_for(self, uri, version=None, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            for p in reversed(self.published):
                if p.uri == uri and (version is None or p.version == version):
                    return p
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no diagnostics for {uri} version {version}")
            self.event.clear()
            try:
                await asyncio.wait_for(self.event.wait(), remaining)
            except asyncio.TimeoutError:
                pass


def position_of(text, needle, delta=1):
    """The LSP position (UTF-16) of `needle` in `text`, `delta` characters in."""
    at = text.index(needle) + delta
    before = text[:at]
    line = before.count("\n")
    column = len(before.rsplit("\n", 1)[-1].encode("utf-16-le")) // 2
    return t.Position(line=line, character=column)


def doc(uri):
    return t.TextDocumentIdentifier(uri=uri)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


async def open_doc(client, name, text, version=1):
    uri = f"file:///tmp/tailpolicy-lsp-test/{name}"
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=uri, language_id="jsonc", version=version, text=text)
        )
    )
    return uri


@test
async def initialize_advertises_every_capability(client, result):
    caps = result.capabilities
    assert caps.hover_provider
    assert caps.definition_provider
    assert caps.references_provider
    assert caps.rename_provider and caps.rename_provider.prepare_provider
    assert caps.completion_provider
    assert caps.code_action_provider
    assert caps.document_formatting_provider
    assert caps.document_symbol_provider
    assert caps.text_document_sync == t.TextDocumentSyncKind.Incremental


@test
async def diagnostics_equal_check_json(client, result):
    text = '{\n\t"groups": {"group:x": []},\n\t"acls": [{"action": "accept", "src": ["tag:nope"], "dst": ["é:80"]}],\n}\n'
    uri = await open_doc(client, "invalid.hujson", text)
    published = await client.diagnostics_for(uri)
    with tempfile.NamedTemporaryFile("w", suffix=".hujson", delete=False) as f:
        f.write(text)
    out = subprocess.run([BINARY, "check", f.name, "--format", "json"], capture_output=True, text=True)
    os.unlink(f.name)
    expected = json.loads(out.stdout)["files"][0]["diagnostics"]
    got = published.diagnostics
    assert len(got) == len(expected) >= 2, (got, expected)
    for g, e in zip(got, expected):
        assert g.code == e["code"], (g, e)
        assert g.message.split("\nhelp: ")[0] == e["message"]
        # check counts characters from 1, LSP UTF-16 units from 0 (all ASCII before `é`).
        assert g.range.start.line == e["line"] - 1 and g.range.start.character == e["column"] - 1, (g, e)
        assert g.range.end.line == e["end_line"] - 1 and g.range.end.character == e["end_column"] - 1, (g, e)
        assert g.source == "tailpolicy"


@test
async def lint_diagnostics_link_their_rule(client, result):
    text = '{"groups": {"group:unused": ["a@example.com"]}, "acls": []}\n'
    uri = await open_doc(client, "lint.hujson", text)
    published = await client.diagnostics_for(uri)
    tp004 = [d for d in published.diagnostics if d.code == "TP004"]
    assert tp004, published.diagnostics
    assert tp004[0].code_description.href.endswith("/docs/rules/TP004.md")
    assert tp004[0].severity == t.DiagnosticSeverity.Warning


@test
async def failing_policy_tests_are_diagnostics(client, result):
    text = '{"tagOwners": {"tag:a": []}, "acls": [], "tests": [{"src": "tag:a", "accept": ["tag:a:22"]}]}\n'
    uri = await open_doc(client, "tests.hujson", text)
    published = await client.diagnostics_for(uri)
    assert any(d.code == "E403" for d in published.diagnostics), published.diagnostics


@test
async def hover_tag_group_host_autogroup_and_rule(client, result):
    uri = await open_doc(client, "depot.hujson", DEPOT)
    await client.diagnostics_for(uri)

    async def hover(needle, delta=2):
        h = await client.text_document_hover_async(
            t.HoverParams(text_document=doc(uri), position=position_of(DEPOT, needle, delta))
        )
        assert h is not None, needle
        return h.contents.value

    tag = await hover('"tag:depot-runner"],')
    assert "owned by `group:platform-team`" in tag and "acls[0]" in tag, tag
    group = await hover('"group:platform-team"],\n\t\t"tag:database"')
    assert "members:" in group, group
    host = await hover('"database:5432"]')
    assert "`100.101.102.103`" in host, host
    autogroup = await hover('"autogroup:self:*"')
    assert "own devices" in autogroup, autogroup
    rule = await hover('"action": "accept",\n\t\t\t"src":    ["tag:depot-runner"],\n\t\t\t"proto":  "tcp",\n\t\t\t"dst":    ["database', 12)
    assert "`tag:depot-runner` -> `database:5432/tcp`" in rule, rule


@test
async def definition_and_references(client, result):
    uri = await open_doc(client, "depot-nav.hujson", DEPOT)
    pos = position_of(DEPOT, '"group:engineering"],\n', 3)
    defs = await client.text_document_definition_async(
        t.DefinitionParams(text_document=doc(uri), position=pos)
    )
    assert len(defs) == 1 and defs[0].range.start == position_of(DEPOT, '"group:engineering":   [', 0), defs
    refs = await client.text_document_references_async(
        t.ReferenceParams(text_document=doc(uri), position=pos, context=t.ReferenceContext(include_declaration=True))
    )
    assert len(refs) >= 3, refs


@test
async def rename_a_tag_everywhere(client, result):
    uri = await open_doc(client, "depot-rename.hujson", DEPOT)
    pos = position_of(DEPOT, '"tag:web":', 3)
    prepared = await client.text_document_prepare_rename_async(
        t.PrepareRenameParams(text_document=doc(uri), position=pos)
    )
    assert prepared.placeholder == "tag:web", prepared
    edit = await client.text_document_rename_async(
        t.RenameParams(text_document=doc(uri), position=pos, new_name="tag:frontend")
    )
    edits = edit.changes[uri]
    assert len(edits) == DEPOT.count('"tag:web') , (len(edits), DEPOT.count('"tag:web'))
    assert all(e.new_text == "tag:frontend" for e in edits)


@test
async def completion_of_fields_and_names(client, result):
    text = '{\n\t"tagOwners": {"tag:ci": []},\n\t"hosts": {"db": "100.64.0.1"},\n\t"acls": [{"action": "accept", "src": ["tag:ci"], "dst": [""]}],\n\t\n}\n'
    uri = await open_doc(client, "complete.hujson", text)
    items = await client.text_document_completion_async(
        t.CompletionParams(text_document=doc(uri), position=position_of(text, '"dst": [""]', 9))
    )
    labels = [i.label for i in (items.items if hasattr(items, "items") else items)]
    assert "tag:ci:*" in labels and "db:*" in labels and "autogroup:self:*" in labels, labels
    items = await client.text_document_completion_async(
        t.CompletionParams(text_document=doc(uri), position=position_of(text, "\t\n}", 1))
    )
    labels = [i.label for i in (items.items if hasattr(items, "items") else items)]
    assert "grants" in labels and "ssh" in labels and "acls" not in labels, labels


@test
async def completion_in_a_broken_document(client, result):
    text = '{\n\t"groups": {"group:eng": ["a@example.com"]},\n\t"acls": [{"action": "accept", "src": ["gr'
    uri = await open_doc(client, "broken-complete.hujson", text)
    published = await client.diagnostics_for(uri)
    assert published.diagnostics and published.diagnostics[0].code == "E001", published.diagnostics
    items = await client.text_document_completion_async(
        t.CompletionParams(text_document=doc(uri), position=position_of(text, '["gr', 4))
    )
    labels = [i.label for i in (items.items if hasattr(items, "items") else items)]
    assert "group:eng" in labels, labels
    hover = await client.text_document_hover_async(
        t.HoverParams(text_document=doc(uri), position=position_of(text, '"group:eng"', 3))
    )
    assert hover and "a@example.com" in hover.contents.value


@test
async def quick_fixes_and_add_test(client, result):
    text = '{\n\t"groups": {\n\t\t"group:used":   ["a@example.com"],\n\t\t"group:unused": ["b@example.com"],\n\t},\n\t"acls": [{"action": "accept", "src": ["group:used", "group:used"], "dst": ["tag:x:22"]}],\n\t"tagOwners": {"tag:x": []},\n}\n'
    uri = await open_doc(client, "fixes.hujson", text)
    published = await client.diagnostics_for(uri)
    everything = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=99, character=0))
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(text_document=doc(uri), range=everything, context=t.CodeActionContext(diagnostics=published.diagnostics))
    )
    titles = [a.title for a in actions]
    assert any(x.startswith("remove unused group") for x in titles), titles
    assert any(x.startswith("remove the second") for x in titles), titles
    fixes = [a for a in actions if a.kind == t.CodeActionKind.QuickFix]
    assert all(a.diagnostics for a in fixes)
    at_rule = t.Range(start=position_of(text, '"action"', 2), end=position_of(text, '"action"', 2))
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(text_document=doc(uri), range=at_rule, context=t.CodeActionContext(diagnostics=[]))
    )
    add = [a for a in actions if a.title.startswith("add a `tests` entry")]
    assert add and "group:used" in add[0].edit.changes[uri][0].new_text, [a.title for a in actions]


@test
async def formatting_equals_fmt(client, result):
    text = '{"acls":[{"action":"accept","src":["*"],"dst":["*:*"]}]}\n'
    uri = await open_doc(client, "format.hujson", text)
    edits = await client.text_document_formatting_async(
        t.DocumentFormattingParams(text_document=doc(uri), options=t.FormattingOptions(tab_size=4, insert_spaces=False))
    )
    expected = subprocess.run([BINARY, "fmt", "-"], input=text, capture_output=True, text=True).stdout
    assert len(edits) == 1 and edits[0].new_text == expected, (edits, expected)


@test
async def document_symbols(client, result):
    uri = await open_doc(client, "depot-symbols.hujson", DEPOT)
    symbols = await client.text_document_document_symbol_async(
        t.DocumentSymbolParams(text_document=doc(uri))
    )
    names = [s.name for s in symbols]
    assert names[:4] == ["groups", "tagOwners", "hosts", "acls"], names
    acls = symbols[3]
    assert len(acls.children) == 6 and acls.children[0].detail == "tag:depot-runner -> database:5432"


@test
async def edits_are_debounced_and_superseded(client, result):
    text = '{"acls": []}\n'
    uri = await open_doc(client, "typing.hujson", text)
    await client.diagnostics_for(uri, 1)
    before = len([p for p in client.published if p.uri == uri])
    # Type `{"acls": [], "x": 1}` one character at a time, faster than the debounce.
    inserted = ', "x": 1'
    for i, ch in enumerate(inserted):
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2 + i),
                content_changes=[t.TextDocumentContentChangePartial(
                    range=t.Range(start=t.Position(line=0, character=11 + i), end=t.Position(line=0, character=11 + i)),
                    text=ch,
                )],
            )
        )
    last = 1 + len(inserted)
    published = await client.diagnostics_for(uri, last)
    assert [d.code for d in published.diagnostics] == ["E101"], published.diagnostics
    await asyncio.sleep(0.3)
    after = [p for p in client.published if p.uri == uri][before:]
    assert len(after) < len(inserted), [p.version for p in after]
    assert after[-1].version == last


@test
async def garbage_never_kills_the_server(client, result):
    for i, text in enumerate(["", "{", "}}}", '{"acls": [{"src": ["', "\ufeff{}", '{"a": "\\u12', "[" * 300]):
        uri = await open_doc(client, f"garbage{i}.hujson", text)
        await client.diagnostics_for(uri)
        for line in range(2):
            for ch in range(0, 6):
                pos = t.Position(line=line, character=ch)
                await client.text_document_hover_async(t.HoverParams(text_document=doc(uri), position=pos))
                await client.text_document_completion_async(t.CompletionParams(text_document=doc(uri), position=pos))
        await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc(uri)))


async def main():
    client = Client()
    await client.start_io(BINARY, "lsp")
    result = await client.initialize_async(
        t.InitializeParams(capabilities=t.ClientCapabilities(), root_uri=None)
    )
    client.initialized(t.InitializedParams())
    passed = failed = 0
    for fn in TESTS:
        try:
            await asyncio.wait_for(fn(client, result), 60)
            passed += 1
            print(f"PASS {fn.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc()
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    print(f"{passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()) else 1)
