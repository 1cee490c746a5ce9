"""The app syncs with the shared folder on start and on quit, in a worker, and says so."""

from __future__ import annotations

from index.config import load_config
from index.library import Library
from index.model import PaperRecord
from index.sync import sync_now
from test_tui_support import settle


async def test_app_syncs_on_start_and_on_quit(tmp_path):
    from tui.app import PapershelfApp

    folder = tmp_path / "Sync"
    folder.mkdir()
    with Library.open(tmp_path / "laptop") as laptop:
        laptop.add([PaperRecord(title="Paper From The Laptop", abstract="Written elsewhere.",
                                arxiv_id="2409.00001", source="test:laptop")])
        sync_now(laptop, folder)

    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(f'[sync]\nfolder = "{folder}"\n')
    desktop = Library.open(tmp_path / "desktop")
    app = PapershelfApp(desktop, load_config(config_dir))
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(50):  # the start-up sync runs in a worker
            await settle(pilot)
            screen = app.screen_stack[0]
            if "arxiv:2409.00001" in screen.results.keys:
                break
        assert "arxiv:2409.00001" in screen.results.keys
        assert "synced:" in screen.status.text()
        screen.results.move_to(screen.results.keys.index("arxiv:2409.00001"))
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("q")  # quitting publishes the star
    desktop.close()

    with Library.open(tmp_path / "laptop") as laptop:
        sync_now(laptop, folder)
        assert laptop.get("arxiv:2409.00001").starred
