"""Markdown reading list and Obsidian notes, checked with a real Markdown parser and YAML."""

from __future__ import annotations

import os

import pytest
import yaml
from markdown_it import MarkdownIt

from index.export.markdown import escape_inline, export_markdown
from index.export.obsidian import (
    MARKER,
    export_obsidian,
    obsidian_tag,
    resolve_inside,
    safe_file_stem,
)
from index.model import Paper, PapershelfError

MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def _inline_text(token) -> str:
    """The text a reader sees for an inline token (text + code, no markup)."""
    return "".join(c.content for c in token.children if c.type in ("text", "code_inline"))


def _headings(text: str) -> list[tuple[str, str]]:
    tokens = MD.parse(text)
    return [(tok.tag, _inline_text(tokens[i + 1])) for i, tok in enumerate(tokens)
            if tok.type == "heading_open"]


HOSTILE = "**Bold** _it_ [link](http://x) <b>html</b> &amp; `code` # ~~s~~ | a | $x$ ==hl== %%c%%"
PAPERS = [
    Paper(key="arxiv:2401.00001", title=HOSTILE, arxiv_id="2401.00001", starred=True,
          tags=["nlp", "rl"], status="reading", abstract="An *abstract* with <script>x</script>",
          note="My **own** note.", citekey="a2024bold", authors=["Ann Äl"]),
    Paper(key="t:2", title=r'T\"ULU 3: na\"{\i}ve {\epsilon}', status="unread", tags=["rl"],
          url="javascript:alert(1)", citekey="b2024tulu"),
    Paper(key="t:3", title="1. Looks like a list", status="read", citekey="c2024looks"),
    Paper(key="t:4", title="- also a list + item", status="unread", citekey="d2024also"),
]


@pytest.mark.parametrize("text", [HOSTILE, "# not a heading", "1. no list", "> no quote",
                                  "a\\b", "trailing #", "<!-- c -->", "x_y_z", "![img](y)",
                                  "---", "-x", "2) y", "2024", "a\n\nb"])
def test_escaped_text_renders_as_itself(text):
    tokens = MD.parse(escape_inline(text))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert _inline_text(tokens[1]) == " ".join(text.split())
    assert all(c.type in ("text", "softbreak") for c in tokens[1].children)


def test_reading_list_grouped_by_status():
    text = export_markdown(PAPERS, group_by="status")
    heads = _headings(text)
    assert heads[0] == ("h1", "Reading list")
    groups = [h for tag, h in heads if tag == "h2"]
    assert groups == ["Reading (1)", "To read (2)", "Read (1)"]
    titles = [h for tag, h in heads if tag == "h3"]
    assert titles == ["★ " + HOSTILE, "TÜLU 3: naïve ϵ", "- also a list + item",
                      "1. Looks like a list"]
    tokens = MD.parse(text)
    links = [c.attrs.get("href") for t in tokens if t.type == "inline" for c in t.children
             if c.type == "link_open"]
    assert links == ["https://arxiv.org/abs/2401.00001"]  # javascript: is never a link
    html = MD.render(text)
    assert "<script>" not in html and "<b>" not in html
    assert "<details>" in html and "My <strong>own</strong> note." in html


def test_grouped_by_tag_and_quoted_abstract():
    text = export_markdown(PAPERS, group_by="tag", abstract="quote", with_notes=False)
    groups = [h for tag, h in _headings(text) if tag == "h2"]
    assert groups == ["nlp (1)", "rl (2)", "Untagged (2)"]
    tokens = MD.parse(text)
    assert any(t.type == "blockquote_open" for t in tokens)
    assert "My **own** note." not in text


def test_obsidian_notes_front_matter_and_body(tmp_path):
    report = export_obsidian(PAPERS, tmp_path / "vault")
    assert len(report.written) == 4
    path = tmp_path / "vault" / "a2024bold.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == HOSTILE
    assert front["tags"] == ["nlp", "rl"]
    assert front["starred"] is True and front["status"] == "reading"
    assert front["key"] == "arxiv:2401.00001" and front["citekey"] == "a2024bold"
    assert front["url"] == "https://arxiv.org/abs/2401.00001"
    assert HOSTILE in front["aliases"]
    assert "My **own** note." in text and MARKER in text


def test_obsidian_tags():
    assert obsidian_tag("machine learning") == "machine-learning"
    assert obsidian_tag("c++") == "c"
    assert obsidian_tag("nested/tag") == "nested/tag"
    assert obsidian_tag("2024") == "tag-2024"
    assert obsidian_tag("#!!") is None
    assert obsidian_tag("über") == "über"


@pytest.mark.parametrize("key", ["../../etc/passwd", "CON", "nul.txt", "a:b", "a/b", "a\\b",
                                 "..", ".", "trailing. ", "/abs/path", "x" * 300, "COM1",
                                 "lpt9", "a|b?c*d", "\x00null", "#^[]"])
def test_hostile_citekeys_stay_inside_the_folder(tmp_path, key):
    folder = tmp_path / "vault"
    report = export_obsidian([Paper(key="t:x", title="T", citekey=key)], folder)
    (written,) = report.written
    assert written.parent == folder.resolve()
    stem = written.name[:-3]
    assert stem and not stem.endswith((".", " ")) and not stem.startswith(".")
    assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    assert not set('<>:"/\\|?*') & set(stem) and len(stem.encode()) <= 100
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["vault", written.name])


def test_safe_file_stem_examples():
    assert safe_file_stem("../../etc/passwd") == "etc-passwd"
    assert safe_file_stem("CON") == "_CON"
    assert safe_file_stem("smith2024deep") == "smith2024deep"


def test_symlink_escape_is_refused(tmp_path):
    folder = tmp_path / "vault"
    folder.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("precious", encoding="utf-8")
    os.symlink(outside, folder / "k.md")
    with pytest.raises(PapershelfError):
        resolve_inside(folder, "k.md")
    with pytest.raises(PapershelfError):
        export_obsidian([Paper(key="t:x", title="T", citekey="k")], folder)
    assert outside.read_text(encoding="utf-8") == "precious"


def test_reexport_keeps_text_below_the_marker(tmp_path):
    folder = tmp_path / "vault"
    paper = Paper(key="t:x", title="First Title", citekey="k2024first", note="old note")
    export_obsidian([paper], folder)
    path = folder / "k2024first.md"
    mine = "\n## My thoughts\n\nThis must survive.\n%% not the marker %%\n"
    path.write_text(path.read_text(encoding="utf-8") + mine, encoding="utf-8")
    paper.title, paper.note, paper.starred = "Second Title", "new note", True
    report = export_obsidian([paper], folder)
    assert report.written == [path.resolve()]
    text = path.read_text(encoding="utf-8")
    assert text.endswith(MARKER + "\n" + mine)
    assert "Second Title" in text and "First Title" not in text
    assert "new note" in text and "old note" not in text
    assert yaml.safe_load(text.split("---\n")[1])["starred"] is True
    again = export_obsidian([paper], folder)
    assert again.unchanged == [path.resolve()] and not again.written
    assert not [p for p in folder.iterdir() if p.name.startswith(".papershelf-")]


def test_existing_file_without_marker_is_kept_whole(tmp_path):
    folder = tmp_path / "vault"
    folder.mkdir()
    (folder / "k.md").write_text("A note the user wrote by hand.\n", encoding="utf-8")
    report = export_obsidian([Paper(key="t:x", title="T", citekey="k")], folder)
    assert report.kept_unmarked
    text = (folder / "k.md").read_text(encoding="utf-8")
    assert text.endswith(MARKER + "\nA note the user wrote by hand.\n")


def test_case_insensitive_name_clash_gets_a_suffix(tmp_path):
    papers = [Paper(key="t:a", title="A", citekey="Smith"),
              Paper(key="t:b", title="B", citekey="smith")]
    report = export_obsidian(papers, tmp_path)
    assert sorted(p.name for p in report.written) == ["Smith.md", "smith-2.md"]


def test_obsidian_into_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(PapershelfError):
        export_obsidian(PAPERS, target)


def test_kept_text_follows_the_paper_not_the_file_name(tmp_path):
    """Renamed keys and a different export order never hand one paper's text to another."""
    folder = tmp_path / "vault"
    a = Paper(key="t:a", title="A", citekey="smith2024")
    b = Paper(key="t:b", title="B", citekey="Smith2024")  # same file name on macOS/Windows
    export_obsidian([a, b], folder)
    names = {p.name: yaml.safe_load(p.read_text().split("---\n")[1])["key"]
             for p in folder.iterdir()}
    assert names == {"smith2024.md": "t:a", "Smith2024-2.md": "t:b"}
    (folder / "Smith2024-2.md").write_text((folder / "Smith2024-2.md").read_text() + "b's text\n")
    export_obsidian([b, a], folder)  # b first now: it must still get its own note
    text_b = (folder / "Smith2024-2.md").read_text()
    assert "b's text" in text_b and yaml.safe_load(text_b.split("---\n")[1])["key"] == "t:b"
    assert "b's text" not in (folder / "smith2024.md").read_text()
    b.citekey = "renamed2024"  # a rename keeps updating the note the paper already has
    export_obsidian([b], folder)
    assert "B" in (folder / "Smith2024-2.md").read_text()
    assert not (folder / "renamed2024.md").exists()
    assert "renamed2024" in (folder / "Smith2024-2.md").read_text()
