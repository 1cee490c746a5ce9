"""PapershelfApp: the Textual front end over one Library.

Threads and SQLite. The Store's connection may be used from any thread, but its transactions
(BEGIN IMMEDIATE ... COMMIT) belong to the connection, so two threads writing through one
connection would mix their transactions. And the search index keeps its own connection and
caches (the filter of the current view), so it is best opened once. The app therefore uses three
Library objects on the same data directory, each confined to one kind of work:

- `lib`, given by the caller: reads only. The results list reads its rows and the export
  dialog its counts through it in thread workers; the UI thread itself reads little through it
  (the cursor's paper when it is not cached). SQLite WAL readers never wait for writers, and
  the connection is shared between threads (sqlite3 serialises its calls).
- the store writer (`with_store`): star, status, tags and notes, in thread workers serialised
  by a lock. These touch SQLite only (tags and notes are only marked for the index), so a star
  never waits for a search, an index commit or a running import's search work.
- the index owner (`with_index`): everything that uses the search index (searches, similar
  papers, the start-up index check, index flushes, imports, exports, sync note resolution),
  serialised by a second lock. The one search index of the process lives here.

One lock around one Library would have been simpler, but a star would then wait for a running
search or an index commit, and a second Library per job would open the index again.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.theme import Theme
from textual.worker import WorkerCancelled, WorkerFailed

from index.config import Config, load_config, load_state, remember_sync_folder, save_state
from index.library import Library
from index.model import PapershelfError
from tui.commands import PapershelfCommands
from tui.keymap import check_keymap
from tui.messages import SyncDone
from tui.screens.main import MainScreen
from tui.search_controller import FILTERS
from tui.themes import load_themes, theme_variable_defaults

T = TypeVar("T")
DEFAULT_THEME = "papershelf-dark"


class PapershelfApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "papershelf"
    COMMANDS = App.COMMANDS | {PapershelfCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("ctrl+p", "command_palette", "Commands", id="command-palette", show=False),
        Binding("S", "sync", "Sync", id="sync", show=False),
    ]

    def __init__(self, library: Library, config: Config | None = None) -> None:
        self.lib = library
        self.config = config if config is not None else load_config()
        self.key_warnings = check_keymap(self.config)  # a mistake stops here, in one line
        self.theme_errors: list[str] = []
        self._themes: list[Theme] = []
        self._load_themes()
        super().__init__()
        self._index_lib: Library | None = None
        self._store_lib: Library | None = None
        self._index_lock = threading.Lock()
        self._store_lock = threading.Lock()
        self._closed = False
        self._quit_pending = False  # q pressed during an import: quit once it is done
        self._gc_thresholds = gc.get_threshold()  # put back on exit
        self.index_ready = threading.Event()  # set once MainScreen has checked the index
        self.last_key_at = 0.0  # perf_counter() of the last key: work ahead waits for a pause
        self._saved_theme = self.config.get("ui", "theme")
        self._theme_timer = None
        self.keymap: dict[str, str] = {}  # what set_keymap was given (binding id -> keys)
        self.set_keymap(self.config.keymap)
        for theme in self._themes:
            self.register_theme(theme)
        wanted = self._saved_theme or DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted
        elif self._saved_theme:
            self.theme_errors.append(f"theme {self._saved_theme!r} from config.toml not found")

    def set_keymap(self, keymap: dict[str, str]) -> None:
        """As App.set_keymap, and kept where the palette and the status line can read it."""
        self.keymap = dict(keymap)
        super().set_keymap(keymap)

    def update_keymap(self, keymap: dict[str, str]) -> None:
        self.keymap = {**self.keymap, **keymap}
        super().update_keymap(keymap)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_key_at = time.perf_counter()
        await super().on_event(event)

    # ---- themes ------------------------------------------------------------------------------

    def _load_themes(self) -> None:
        themes, errors = load_themes(self.config.path.parent / "themes")
        self._themes, self.theme_errors = list(themes), list(errors)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults(self.current_theme)

    def _theme_changed(self, theme: Theme) -> None:
        # The theme palette previews themes as they are highlighted: save the one that stays.
        if self._theme_timer is not None:
            self._theme_timer.stop()
        self._theme_timer = self.set_timer(1.0, self.save_theme)

    def save_theme(self) -> None:
        self._theme_timer = None
        if self.theme != self._saved_theme:
            try:
                self.config.set("ui", "theme", self.theme)
                self._saved_theme = self.theme
            except (OSError, PapershelfError) as exc:
                self.notify(f"could not save the theme: {exc}", severity="warning", markup=False)

    # ---- life cycle --------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        state = load_state(self.lib.data_dir)

        def remembered(name: str, default: str = "") -> str:
            # older versions kept this state in config.toml's [ui]: still read once
            return state.get(name, self.config.get("ui", name, default)) or default

        last_filter = remembered("last_filter", "all")
        return MainScreen(
            query=remembered("last_query"),
            filter=last_filter if last_filter in FILTERS else "all",
            selected=remembered("last_selected") or None,
            debounce_ms=self.config.get("ui", "debounce_ms", 120),
        )

    def on_mount(self) -> None:
        self._tune_garbage_collector()
        self.call_after_refresh(self.check_size)
        self.sync_folder = self.config.get("sync", "folder")
        if self.sync_folder:  # sync on start (once the screen is up) and every few minutes
            self.call_after_refresh(self.action_sync)
            self._start_sync_timer()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for warning in self.key_warnings:
            self.notify(warning, title="Keys", severity="warning", markup=False, timeout=15)
        if self.theme_errors:
            self.notify("\n".join(self.theme_errors), title="Themes", severity="warning",
                        markup=False, timeout=10)

    def on_resize(self) -> None:
        self.call_after_refresh(self.check_size)

    def check_size(self) -> None:
        """Below the smallest usable size, say so rather than draw a broken screen."""
        from tui.screens.too_small import TooSmallScreen, too_small

        small = too_small(*self.size)
        showing = isinstance(self.screen, TooSmallScreen)
        if small and not showing:
            self.push_screen(TooSmallScreen())
        elif showing and not small:
            self.pop_screen()

    def _start_sync_timer(self) -> None:
        minutes = self.config.get("sync", "interval_minutes", 5)
        if minutes and minutes > 0:
            self.set_interval(minutes * 60, self.action_sync)

    def _tune_garbage_collector(self) -> None:
        """Keep Python's full garbage collections out of typing and starring.

        Every repaint leaves cyclic garbage behind (Textual's Strip caches), and CPython's
        default thresholds then run a full collection over every live object every few
        seconds: 50-190 ms pauses at 100k papers (measured with gc.callbacks in
        benchmarks/bench_tui.py), which is most of the keystroke p95. So: collect the young
        generation less often, and freeze what start-up built (modules, widgets, the library),
        which later collections then skip."""
        gc.set_threshold(10_000, 10, 10)
        self.call_after_refresh(gc.freeze)

    async def action_quit(self) -> None:
        if self._imports_running():
            self._quit_after_imports()
            return
        self.save_state()
        if getattr(self, "sync_folder", None) and not self._closed:
            self._main_status("syncing before quitting…")
            await self.action_sync().wait()  # publish this session's changes
        self.exit()

    def _imports_running(self) -> list:
        return [w for w in self.workers if w.group == "import" and not w.is_finished]

    def _quit_after_imports(self) -> None:
        """An import holds the index until it is done: say so, let the UI go on showing its
        progress, and quit once it is finished (nothing it imported is lost)."""
        if self._quit_pending:
            return
        self._quit_pending = True
        self.notify("Finishing the import before quitting…", title="Quitting",
                    markup=False, timeout=60)
        self.run_worker(self._quit_when_imported(self._imports_running()), group="quit",
                        exit_on_error=False)

    async def _quit_when_imported(self, running: list) -> None:
        for worker in running:
            try:
                await worker.wait()
            except (WorkerFailed, WorkerCancelled):
                pass  # the import reported its own failure; quitting goes on
        self._quit_pending = False
        await self.action_quit()

    # ---- sync --------------------------------------------------------------------------------

    def action_sync(self):
        if not getattr(self, "sync_folder", None):
            self._choose_sync_folder()
            return None
        self._main_status("syncing…")
        return self._sync_worker(self.sync_folder)

    def _choose_sync_folder(self) -> None:
        """The first S: ask for the folder (with completion), sync, and remember it."""
        from tui.screens.sync_folder import SyncFolderPrompt

        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self._main_status("syncing…")
                self._sync_worker(str(folder), remember=True)

        self.push_screen(SyncFolderPrompt(), chosen)

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def _sync_worker(self, folder: str, remember: bool = False) -> None:
        try:
            report = self.with_index(lambda lib: lib.sync.now(Path(folder).expanduser()))
        except Exception as exc:  # noqa: BLE001 - any failure is shown, the app goes on
            self._post_to_main(SyncDone(error=str(exc)))
        else:
            if remember:  # only a folder that synced is worth remembering
                self.call_from_thread(self._remember_sync_folder, folder)
            self._post_to_main(SyncDone(report=report))

    def _remember_sync_folder(self, folder: str) -> None:
        try:
            self.sync_folder = remember_sync_folder(self.config, folder)
        except OSError as exc:
            self.sync_folder = folder  # this session still syncs with it
            self.notify(f"could not save the sync folder in config.toml: {exc}",
                        severity="warning", markup=False)
            return
        self._start_sync_timer()

    def _post_to_main(self, message) -> None:
        if self.screen_stack:
            self.screen_stack[0].post_message(message)

    def _main_status(self, text: str) -> None:
        screen = self.screen_stack[0] if self.screen_stack else None
        if isinstance(screen, MainScreen) and screen.is_mounted:
            screen.status.set(message=text)

    def save_state(self) -> None:
        """The query, filter and selected paper, for the next launch: state in the data dir
        (config.toml is the user's file)."""
        screen = self.screen_stack[0] if self.screen_stack else None
        if not isinstance(screen, MainScreen):
            return
        if self._theme_timer is not None:
            self.save_theme()
        try:
            state = screen.state()
            if load_state(self.lib.data_dir) != state:
                save_state(self.lib.data_dir, state)
        except OSError as exc:
            self.notify(f"could not save the session: {exc}", severity="warning", markup=False)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def close_libraries(self) -> None:
        """Flush pending index work and close the worker Libraries (waits for running jobs)."""
        self._closed = True
        self.index_ready.set()  # a search still waiting for the check gives up
        with self._store_lock:
            if self._store_lib is not None:
                self._store_lib.close()
                self._store_lib = None
        with self._index_lock:
            if self._index_lib is not None:
                try:
                    self._index_lib.try_flush_index()
                except Exception:
                    pass  # the dirty marks stay in the store; the next flush does the work
                self._index_lib.close()
                self._index_lib = None

    def on_unmount(self) -> None:
        self.close_libraries()
        gc.unfreeze()  # what start-up built may be garbage now (tests run many apps)
        gc.set_threshold(*self._gc_thresholds)

    # ---- library access from workers ---------------------------------------------------------

    def _open(self) -> Library:
        if self._closed:
            raise PapershelfError("papershelf is closing")
        return Library.open(self.lib.data_dir)

    def with_index(self, job: Callable[[Library], T]) -> T:
        """Run `job` with the Library that owns the search index (see the module docstring)."""
        with self._index_lock:
            if self._index_lib is None:
                self._index_lib = self._open()
            return job(self._index_lib)

    def with_store(self, job: Callable[[Library], T]) -> T:
        """Run `job` with the Library for user changes (SQLite only, never the index)."""
        with self._store_lock:
            if self._store_lib is None:
                self._store_lib = self._open()
            return job(self._store_lib)


def run_app(data_dir: str | Path | None = None) -> int:
    """Open the library and config (errors propagate as PapershelfError), run, close."""
    config = load_config()
    library = Library.open(data_dir)
    try:
        app = PapershelfApp(library, config)
        app.run()
    finally:
        library.close()
    return app.return_code or 0
