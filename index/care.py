"""Looking after a library: the doctor's checks and repairs, and backups. Handed out as
`Library.care`, so `papershelf doctor|backup` and the CLI's daily backup call one place."""

from __future__ import annotations

from pathlib import Path

# Repairs that write to the database: a safety copy is taken before them.
WRITING_FIXES = ("sqlite-reindex", "clock")


class Care:
    def __init__(self, lib):
        self.lib = lib

    def check(self, *, index: bool = True):
        """Every check (index.doctor.DoctorReport); a damaged index is reported, not rebuilt."""
        from index import doctor

        return doctor.check(self.lib, index=index)

    def repair(self, report) -> list[str]:
        """Apply the safe repairs `report` asks for, after a safety copy of the library when
        one of them writes to the database. One line per action taken or attempted."""
        from index import doctor

        actions: list[str] = []
        if any(f.fix in WRITING_FIXES for f in report.findings if f.repairable):
            try:
                if saved := self.auto_backup(reason="before-repair"):
                    actions.append(f"saved the library as it was to {saved}")
            except Exception as exc:  # noqa: BLE001 - a damaged database may not copy
                actions.append(f"could not save a copy first ({exc}); repairing anyway")
        return actions + doctor.repair(self.lib, report)

    def backup(self, dest: Path | None = None, *, force: bool = False) -> Path:
        """A backup at `dest` (a file or an existing folder; default the backups folder)."""
        from index.backup import backup

        return backup(self.lib, dest, force=force)

    def auto_backup(self, *, reason: str = "") -> Path | None:
        from index.backup import auto_backup

        return auto_backup(self.lib, reason=reason)

    def daily_backup(self) -> Path | None:
        """The day's automatic backup, when none was taken today (None then, or when
        automatic backups are off)."""
        from index.backup import daily_backup

        return daily_backup(self.lib)
