"""The store's value types: an operation, and the rows it reads back as papers and ops."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from index.model import Paper, PapershelfError

# Metadata fields a later listing may fill in when the stored paper lacks them.
FILLABLE_FIELDS = ("abstract", "authors", "year", "listing_date", "arxiv_id", "doi", "url",
                   "venue", "links")
JSON_COLUMNS = ("authors", "links", "extra", "sources")
# One encoder for all writes: json.dumps(..., ensure_ascii=False) builds a new one per call.
to_json = json.JSONEncoder(ensure_ascii=False).encode


class StoreError(PapershelfError):
    pass


@dataclass(frozen=True)
class Op:
    """One operation: the unit of change and of sync."""

    op_id: str
    device: str
    seq: int
    hlc: str
    type: str  # paper.add | paper.source | paper.update | paper.merge | paper.delete | set | tag
    key: str
    field: str | None
    value: object

    def to_json(self) -> dict:
        return {"id": self.op_id, "device": self.device, "seq": self.seq, "hlc": self.hlc,
                "type": self.type, "key": self.key, "field": self.field, "value": self.value}

    @classmethod
    def from_json(cls, data: dict) -> Op:
        return cls(data["id"], data["device"], int(data["seq"]), data["hlc"], data["type"],
                   data["key"], data.get("field"), data.get("value"))


def row_to_op(r: sqlite3.Row) -> Op:
    return Op(r["op_id"], r["device"], r["seq"], r["hlc"], r["type"], r["key"], r["field"],
              json.loads(r["value"]) if r["value"] is not None else None)


def row_to_paper(row: sqlite3.Row, tags: list[str]) -> Paper:
    return Paper(
        key=row["key"], title=row["title"], abstract=row["abstract"],
        authors=json.loads(row["authors"]), year=row["year"], listing_date=row["listing_date"],
        arxiv_id=row["arxiv_id"], doi=row["doi"], url=row["url"], links=json.loads(row["links"]),
        venue=row["venue"], sources=json.loads(row["sources"]), citekey=row["citekey"],
        extra=json.loads(row["extra"]), added=row["added"], starred=bool(row["starred"]),
        tags=tags, status=row["status"], note=row["note"],
    )

