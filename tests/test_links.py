"""Links read from pages are real URLs, and `o` opens the arXiv page, else the first link
(saying which), else says there is none."""

from __future__ import annotations

import pytest
from test_tui_support import make_app, settle, wait_for

from index.model import PaperRecord
from index.sources.dailypapers import extract_links
from samples import dense_page
from tui.cli import main


@pytest.mark.parametrize("text, links", [
    ("Project page: https://example.org/Project/{this http URL}.",
     ["https://example.org/Project/"]),
    ("Code in <https://code.example.com/tool>, data at \"https://data.example.com/set\".",
     ["https://code.example.com/tool", "https://data.example.com/set"]),
    ("Demo at 'https://demo.example.net/a' and https://x.example.org/{v}/y",
     ["https://demo.example.net/a", "https://x.example.org/"]),
    ("Only a placeholder: {this http URL} and {this https URL}.", []),
    ("Balanced (https://en.wikipedia.org/wiki/Foo_(bar)) stays.",
     ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
])
def test_urls_stop_at_braces_angle_brackets_and_quotes(text, links):
    assert extract_links(text) == links


def test_imported_links_and_markdown_have_no_placeholder(tmp_path, capsys):
    page = tmp_path / "links.txt"
    page.write_text(dense_page([
        ("Sparse Lanterns for Efficient Night Vision",
         "We light scenes sparsely. Code: https://example.org/Lanterns/{this http URL} today."),
    ]), encoding="utf-8")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "import", str(page)]) == 0
    assert main(["--data-dir", str(data), "list", "--json"]) == 0
    assert '"https://example.org/Lanterns/"' in capsys.readouterr().out
    out = tmp_path / "list.md"
    assert main(["--data-dir", str(data), "export", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "%7B" not in text and "{this" not in text


OPEN_CASES = [
    PaperRecord(title="Alpha Paper With An Identifier", arxiv_id="2405.01234",
                url="https://example.org/alpha", links=["https://github.com/alpha/code"],
                source="test:o"),
    PaperRecord(title="Beta Paper With Two Links Only",
                abstract="Code at https://github.com/beta/code and https://beta.example.org/.",
                links=["https://github.com/beta/code", "https://beta.example.org/"],
                source="test:o"),
    PaperRecord(title="Gamma Paper With Nothing To Open", source="test:o"),
]


@pytest.mark.parametrize("query, url, says", [
    ("alpha", "https://arxiv.org/abs/2405.01234", "opened the arXiv page"),
    ("beta", "https://github.com/beta/code", "opened the first link in its abstract (of 2)"),
    ("gamma", None, "this paper has no arXiv id and no link to open"),
])
async def test_o_opens_the_arxiv_page_else_the_first_link_else_says_none(
        tmp_path, monkeypatch, query, url, says):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda u: opened.append(u) or True)
    app, lib = make_app(tmp_path, OPEN_CASES)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *query, "escape")
        await settle(pilot)
        await pilot.press("o")
        await wait_for(pilot, lambda: says in screen.status.text())
        assert opened == ([url] if url else [])
        if url:
            assert url in screen.status.text()
    lib.close()
