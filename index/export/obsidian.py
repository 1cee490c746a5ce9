"""Papers -> an Obsidian vault folder: one note per paper, YAML front matter, the note as body.

File names come from the citation key, made safe for Windows, macOS and Linux, and every path
is resolved and checked to lie inside the chosen folder. Re-exporting rewrites the front matter
and the generated part but keeps whatever the user wrote below the marker line. Each file is
written to a temp file, fsynced and renamed over the old one, so a crash leaves the old note or
the new one, never half of either.
"""

from __future__ import annotations

from index.fileio import fsync_dir as _fsync_dir
from index.fileio import user_file_mode, write_atomic

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from index.export.latex import decode_latex
from index.export.markdown import clean_note, display_title, escape_inline
from index.model import Paper, PapershelfError

Progress = Callable[[int, int], None]
# yaml.safe_dump / safe_load's own classes, in libyaml's C version when PyYAML has it (10x faster
# for a vault of thousands of notes; the same safe subset of YAML either way).
_SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MARKER = "%% papershelf: your notes below this line are kept %%"
MAX_STEM = 100  # well under every file system's 255-byte name limit, even in UTF-8

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in list("123456789") + ["¹", "²", "³"]]
)
# Forbidden on Windows (<>:"/\|?*), control characters, and what breaks Obsidian links (#^[]|).
_BAD_NAME_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f#^\[\]]')
_TAG_BAD = re.compile(r"[^\w\-/]+", re.UNICODE)


@dataclass
class ObsidianReport:
    folder: Path
    written: list[Path] = field(default_factory=list)  # new or changed files
    unchanged: list[Path] = field(default_factory=list)
    kept_unmarked: list[Path] = field(default_factory=list)  # had no marker: old text kept below it

    def summary(self) -> str:
        text = (f"wrote {_notes(len(self.written))}, {len(self.unchanged)} unchanged, "
                f"in {self.folder}")
        if self.kept_unmarked:
            its = "its" if len(self.kept_unmarked) == 1 else "their"
            text += (f"; {_notes(len(self.kept_unmarked))} already there had no marker line, "
                     f"{its} whole text was kept below it")
        return text


def _notes(count: int) -> str:
    return f"{count} note{'' if count == 1 else 's'}"


def safe_file_stem(name: str) -> str:
    """A citation key -> a file name stem that is valid and harmless on every OS."""
    stem = unicodedata.normalize("NFC", name)
    stem = _BAD_NAME_CHARS.sub("-", stem)
    stem = re.sub(r"\s+", " ", stem)
    stem = re.sub(r"-{2,}", "-", stem)
    stem = stem.strip(" .-")  # no hidden files, no trailing dots/spaces (Windows drops them)
    if len(stem.encode("utf-8")) > MAX_STEM:
        stem = stem.encode("utf-8")[:MAX_STEM].decode("utf-8", "ignore").rstrip(" .-")
    if not stem or stem in (".", ".."):
        stem = "paper"
    if stem.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return stem


def obsidian_tag(tag: str) -> str | None:
    """Obsidian tags: letters, digits, _, - and / (nesting), not only digits, no spaces."""
    cleaned = _TAG_BAD.sub("-", "-".join(tag.strip().split()))
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    cleaned = re.sub(r"/{2,}", "/", cleaned).strip("-/")
    if not cleaned or cleaned.replace("/", "").replace("-", "").replace("_", "").isdigit():
        return None if not cleaned else "tag-" + cleaned
    return cleaned


def front_matter(paper: Paper) -> dict:
    title = display_title(paper)
    tags = [t for t in dict.fromkeys(obsidian_tag(t) for t in paper.tags) if t]
    data = {
        "title": title,
        "aliases": [title] + ([paper.citekey] if paper.citekey else []),
        "tags": tags,
        "starred": bool(paper.starred),
        "status": paper.status,
        "key": paper.key,
        "citekey": paper.citekey,
        "authors": [" ".join(decode_latex(a).split()) for a in paper.authors],
        "year": paper.year,
        "listing_date": paper.listing_date,
        "url": paper.best_url,
        "links": list(paper.links),
        "sources": list(paper.sources),
    }
    return data


def note_text(paper: Paper, kept: str = "") -> str:
    """The whole file: front matter, generated part, marker, then the user's kept text."""
    yaml_text = yaml.dump(front_matter(paper), Dumper=_SAFE_DUMPER, allow_unicode=True,
                          sort_keys=False, default_flow_style=False, width=1_000_000)
    parts = ["---\n", yaml_text, "---\n", f"# {escape_inline(display_title(paper))}\n"]
    abstract = " ".join(decode_latex(paper.abstract or "").split())
    if abstract:
        parts.append("\n> [!abstract]- Abstract\n> " + escape_inline(abstract) + "\n")
    note = clean_note(paper.note)
    if note:
        # A marker line inside the note would make the next export keep the wrong part.
        lines = [("%% (marker line quoted from the note) %%" if line.strip() == MARKER else line)
                 for line in note.split("\n")]
        parts.append("\n" + "\n".join(lines) + "\n")
    parts.append("\n" + MARKER + "\n")
    parts.append(kept)
    return "".join(parts)


def _kept_text(old: str) -> tuple[str, bool]:
    """What to keep from an existing file: text after the marker line, or (no marker) all of
    its body, so nothing a user wrote is ever lost. Returns (text, had_marker)."""
    lines = old.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() == MARKER:
            return "".join(lines[i + 1 :]), True
    body = old
    if old.startswith("---\n"):
        end = old.find("\n---\n", 4)
        if end >= 0:
            body = old[end + 5 :]
    return body, False


def resolve_inside(folder: Path, name: str) -> Path:
    """folder/name, refusing anything that would land outside folder (links, .., absolute)."""
    root = folder.resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise PapershelfError(f"refusing to write {name!r}: it would land outside {root}")
    return target


def atomic_write(path: Path, text: str) -> None:
    """Exports are the user's files: readable as the umask allows, like any file they save."""
    write_atomic(path, text.encode("utf-8"), mode=user_file_mode())


def _existing_notes(folder: Path) -> dict[str, tuple[str, str]]:
    """Notes this exporter wrote before: casefolded file name -> (file name, paper key).

    A paper's note is found by its key, so a renamed citation key or a different export order
    never hands one paper's kept text to another."""
    owners: dict[str, tuple[str, str]] = {}
    for path in folder.glob("*.md"):
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = handle.read(16_384)
        except OSError:
            continue
        if not head.startswith("---\n") or MARKER not in head and "\nkey: " not in head:
            continue
        end = head.find("\n---\n", 4)
        if end < 0:
            continue
        try:
            data = yaml.load(head[4:end], Loader=_SAFE_LOADER)
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and isinstance(data.get("key"), str):
            owners[path.name.casefold()] = (path.name, data["key"])
    return owners


def _free_name(stem: str, key: str, used: set[str], owners: dict[str, tuple[str, str]]) -> str:
    """stem.md, else stem-2.md ...: skipping names used in this export or owned by another paper."""
    candidate, n = stem + ".md", 1
    while candidate.casefold() in used or owners.get(candidate.casefold(), ("", key))[1] != key:
        n += 1
        candidate = f"{stem}-{n}.md"
    return candidate


def export_obsidian(papers: Iterable[Paper], folder: str | Path, *,
                    progress: Progress | None = None) -> ObsidianReport:
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise PapershelfError(f"{folder} is a file; Obsidian export needs a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PapershelfError(f"cannot create {folder}: {exc.strerror}") from None
    report = ObsidianReport(folder.resolve())
    papers = list(papers)
    owners = _existing_notes(report.folder)
    by_key = {key: name for name, key in owners.values()}
    used: set[str] = set()  # casefolded: macOS and Windows names ignore case
    for i, paper in enumerate(papers, 1):
        name = by_key.get(paper.key)  # the note this paper already has, even after a key rename
        if name is None or name.casefold() in used:
            name = _free_name(safe_file_stem(paper.citekey or paper.key), paper.key, used, owners)
        used.add(name.casefold())
        path = resolve_inside(folder, name)
        kept, had_marker = "", True
        old = None
        if path.exists():
            if not path.is_file():
                raise PapershelfError(f"{path} exists and is not a file")
            try:
                old = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise PapershelfError(f"cannot read {path}: {exc.strerror or exc}") from None
            kept, had_marker = _kept_text(old)
        text = note_text(paper, kept)
        if old == text:
            report.unchanged.append(path)
        else:
            try:
                atomic_write(path, text)
            except OSError as exc:
                raise PapershelfError(f"cannot write {path}: {exc.strerror or exc}") from None
            report.written.append(path)
            if not had_marker:
                report.kept_unmarked.append(path)
        if progress is not None:
            progress(i, len(papers))
    _fsync_dir(report.folder)
    return report
