"""Changes a person makes to papers (star, status, note, citation key, tags, delete) and
re-keying; each is one transaction that appends its operation to the log."""

from __future__ import annotations

import sqlite3

from index.model import normalise_title, paper_key
from index.store.rows import StoreError
from index.store.schema import TITLE_KEYS


class PaperEdits:
    def _require(self, key: str) -> sqlite3.Row:
        row = self._get_row(key)
        if row is None:
            raise StoreError(f"no paper with key {key}")
        return row

    def set_field(self, key: str, field: str, value) -> bool:
        """Set starred/status/note/citekey. Returns False (and writes nothing) when unchanged."""
        return self._set_field(key, field, value)[0]

    def save_note(self, key: str, text: str, opened: str | None) -> tuple[bool, bool]:
        """Compare-and-set a note: `opened` is the version (register op id) the editor started
        from. Returns (changed, concurrent): concurrent when another process saved a different
        version meanwhile; the new version then names `opened` as its parent, so the two are
        siblings that sync's merge folds into a merge or a conflict, never an overwrite."""
        return self._set_field(key, "note", text, opened=opened)

    def note_version(self, key: str) -> str | None:
        """The version of the note as stored now (what `save_note` compares against)."""
        current = self.register(self.resolve_alias(key), "note")
        return current[1] if current else None

    def _set_field(self, key: str, field: str, value, *, opened: object = ...) -> tuple[bool, bool]:
        with self.transaction():
            row = self._require(key)
            current = bool(row[field]) if field == "starred" else row[field]
            if current == value:
                return False, False
            stored = int(value) if field == "starred" else value
            if field == "citekey":
                # BibTeX compares keys ignoring case, so a clash is one ignoring case too.
                clash = self.db.execute(
                    "SELECT key, citekey FROM papers WHERE citekey = ? COLLATE NOCASE AND key != ?",
                    (value, key)).fetchone()
                if clash:
                    raise StoreError(f"citation key {value} is already used by {clash[0]} "
                                     f"(as {clash[1]})")
                self.db.execute("DELETE FROM provisional_citekeys WHERE key = ?", (key,))
            self.db.execute(f"UPDATE papers SET {field} = ? WHERE key = ?", (stored, key))
            op_value = value
            concurrent = False
            if field == "note":  # note versions name their parent, for three-way merges in sync
                stored_version = self.register(key, "note")
                parent = stored_version[1] if stored_version else None
                if opened is not ... and opened != parent:
                    parent, concurrent = opened, True
                op_value = {"text": value, "parent": parent}
                self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
            self.record_op("set", key, field, op_value, self.next_seq())
            return True, concurrent

    def set_tags(self, key: str, tags: list[str], present: bool) -> bool:
        """Add or remove several tags in one transaction: all of them or none."""
        with self.transaction():
            self._require(key)
            changed = False
            for tag in tags:
                changed |= self._set_tag(key, tag, present, self.next_seq())
            return changed

    def set_starred_many(self, keys: list[str], starred: bool) -> int:
        """Star or unstar several papers in one transaction. Returns how many changed."""
        changed = 0
        with self.transaction():
            for key in keys:
                row = self._require(key)
                if bool(row["starred"]) != starred:
                    self.db.execute("UPDATE papers SET starred = ? WHERE key = ?", (int(starred), key))
                    self.record_op("set", key, "starred", starred, self.next_seq())
                    changed += 1
        return changed

    def _set_tag(self, key: str, tag: str, present: bool, seq: int) -> bool:
        has = self.db.execute("SELECT 1 FROM tags WHERE key = ? AND tag = ?", (key, tag)).fetchone()
        if bool(has) == present:
            return False
        if present:
            self.db.execute("INSERT INTO tags VALUES (?, ?)", (key, tag))
        else:
            self.db.execute("DELETE FROM tags WHERE key = ? AND tag = ?", (key, tag))
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
        self.record_op("tag", key, "tag:" + tag, present, seq)
        return True

    def delete(self, key: str) -> None:
        with self.transaction():
            self._require(key)
            self.db.execute("UPDATE papers SET deleted = 1 WHERE key = ?", (key,))
            self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
            self.record_op("paper.delete", key, "deleted", True, self.next_seq())


    def rekey(self, old_key: str, new_key: str, seq: int | None = None) -> None:
        """Move a paper (and its tags and registers) to a new key; the old key becomes an alias."""
        self.db.execute("UPDATE papers SET key = ? WHERE key = ?", (new_key, old_key))
        self.db.execute("UPDATE OR IGNORE tags SET key = ? WHERE key = ?", (new_key, old_key))
        self.db.execute("DELETE FROM tags WHERE key = ?", (old_key,))
        self.db.execute("UPDATE OR IGNORE registers SET key = ? WHERE key = ?", (new_key, old_key))
        self.db.execute("DELETE FROM registers WHERE key = ?", (old_key,))
        self.db.execute("UPDATE aliases SET new_key = ? WHERE new_key = ?", (new_key, old_key))
        self.db.execute("UPDATE OR REPLACE provisional_citekeys SET key = ? WHERE key = ?",
                        (new_key, old_key))
        self.db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (old_key, new_key))
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (old_key,))
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (new_key,))


    def _rekey_latex_titles(self) -> None:
        """Papers keyed by a title holding LaTeX before titles were read as text move to
        today's key (the old one stays an alias), as a merge operation other devices follow."""
        with self.transaction():
            if self.meta("title_keys") == TITLE_KEYS:
                return  # another process did it first
            rows = self.db.execute(
                "SELECT key, title FROM papers WHERE key LIKE 'title:%' AND deleted = 0 "
                "AND (instr(title, '\\') > 0 OR instr(title, '{') > 0)").fetchall()
            live = {r[0] for r in self.db.execute("SELECT key FROM papers")}
            for old_key, title in rows:
                new_key = paper_key(title=title)
                if new_key == old_key or new_key in live:
                    continue
                self.rekey(old_key, new_key)
                self.db.execute("UPDATE papers SET title_norm = ? WHERE key = ?",
                                (normalise_title(title), new_key))
                self.record_op("paper.merge", old_key, None, new_key, self.next_seq())
                live.add(new_key)
            self.set_meta("title_keys", TITLE_KEYS)


    def settle_note(self, key: str, text: str, heads: list[str]) -> None:
        """Write the note that settles a conflict: one new version whose parents are every
        head, so it supersedes all of them."""
        with self.transaction():
            self.db.execute("UPDATE papers SET note = ? WHERE key = ?", (text, key))
            self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
            self.record_op("set", key, "note", {"text": text, "parent": heads[-1],
                                                "parents": heads}, self.next_seq())
