"""arXiv API fetch against a local HTTP server that answers in the API's Atom shape."""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest

from index.arxiv_api import fetch_arxiv, fetch_pending
from index.model import PapershelfError
from index.sources import arxiv_ids

PAPERS = {
    "2101.01234": ("Scaling Things", "We study things.", ["Ada Lovelace", "Alan Turing"], "2021-01-04"),
    "2408.10188": ("LongVILA: Long-Context VLMs", "Long context.", ["Fuzhao Xue"], "2024-08-19"),
    "hep-th/9901001": ("Old Strings", "Strings.", ["E. Witten"], "1999-01-01"),
}


def atom_for(ids: list[str]) -> str:
    entries = []
    for raw in ids:
        bare = raw.split("v")[0] if "." in raw else raw.rsplit("v", 1)[0] if raw[-2:-1] == "v" else raw
        if not (arxiv_ids.extract_id(raw)):
            entries.append(f"""<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_{escape(raw)}</id>
<title>Error</title><summary>incorrect id format for {escape(raw)}</summary></entry>""")
            continue
        if bare not in PAPERS:
            continue  # the API simply leaves out ids it does not have
        title, summary, authors, date = PAPERS[bare]
        version = raw[len(bare):] or "v1"
        people = "".join(f"<author><name>{escape(a)}</name></author>" for a in authors)
        entries.append(f"""<entry>
<id>http://arxiv.org/abs/{bare}{version}</id><published>{date}T00:00:00Z</published>
<updated>{date}T00:00:00Z</updated><title>{escape(title)}</title>
<summary>{escape(summary)}</summary>{people}
<link href="http://arxiv.org/abs/{bare}{version}" rel="alternate" type="text/html"/>
<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CL"/>
<category term="cs.CL"/></entry>""")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom"><title>ArXiv Query</title>'
            + "".join(entries) + "</feed>")


class Server:
    def __init__(self, mode="ok", delay=0.0):
        self.mode, self.delay, self.requests = mode, delay, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                outer.requests.append(query)
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.mode == "503":
                    self.send_error(503, "Service Unavailable")
                    return
                if outer.mode == "html":
                    body = b"<html><body>rate limited</body></html>"
                else:
                    ids = query.get("id_list", [""])[0].split(",")
                    body = atom_for([i for i in ids if i]).encode("utf-8")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/atom+xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/query"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_fetch_in_batches_with_unknown_ids(monkeypatch):
    with Server() as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        result = fetch_arxiv(["2101.01234v2", "2408.10188", "2101.99999", "hep-th/9901001",
                              "2101.01234"], batch_size=2, delay=0)
    # three requests of at most two ids; the repeated id is asked once
    assert [q["id_list"][0] for q in server.requests] == [
        "2101.01234v2,2408.10188", "2101.99999,hep-th/9901001"]
    assert [q["max_results"][0] for q in server.requests] == ["2", "2"]
    assert [r.arxiv_id for r in result.records] == ["2101.01234", "2408.10188", "hep-th/9901001"]
    first = result.records[0]
    assert first.title == "Scaling Things" and first.authors == ["Ada Lovelace", "Alan Turing"]
    assert first.extra["arxiv_version"] == "v2" and first.year == 2021
    assert first.source == "arxiv:api"
    assert [p.message for p in result.problems] == ["arXiv has no paper 2101.99999"]


def test_explicit_base_url_and_delay_between_batches():
    with Server() as server:
        started = time.monotonic()
        result = fetch_arxiv(["2101.01234", "2408.10188"], base_url=server.url, batch_size=1,
                             delay=0.2)
        assert time.monotonic() - started >= 0.2
    assert len(server.requests) == 2 and len(result.records) == 2


def test_http_error_timeout_offline_and_garbage():
    with Server(mode="503") as server:
        with pytest.raises(PapershelfError, match=r"arXiv answered HTTP 503 .*try again later"):
            fetch_arxiv(["2101.01234"], base_url=server.url, delay=0)
    with Server(delay=1.5) as server:
        with pytest.raises(PapershelfError) as err:
            fetch_arxiv(["2101.01234"], base_url=server.url, timeout=0.3, delay=0)
        assert str(err.value) == "cannot reach arXiv (timeout after 0.3 s); check your connection"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PapershelfError, match=r"^cannot reach arXiv \(.*\); check your connection$"):
        fetch_arxiv(["2101.01234"], base_url=f"http://127.0.0.1:{port}/api", delay=0)
    with Server(mode="html") as server:
        with pytest.raises(PapershelfError, match="not an Atom feed"):
            fetch_arxiv(["2101.01234"], base_url=server.url, delay=0)


def test_fetch_pending_replaces_placeholders(monkeypatch):
    parsed = arxiv_ids.parse("2101.01234\n# c\n2101.99999\n", "/x/ids.txt")
    with Server() as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        result = fetch_pending(parsed, delay=0)
    assert [(r.title, r.line, r.source) for r in result.records] == [
        ("Scaling Things", 1, "arxiv-ids:ids.txt")]
    assert [(p.message, p.line, p.path) for p in result.problems] == [
        ("arXiv has no paper 2101.99999", 3, "ids.txt")]


def test_cli_add(monkeypatch, tmp_path, capsys):
    from index.library import Library
    from tui import cli

    data = tmp_path / "data"
    with Server() as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        code = cli.main(["--data-dir", str(data), "add", "https://arxiv.org/abs/2101.01234v1",
                         "https://huggingface.co/papers/2408.10188"])
        out = capsys.readouterr()
        assert code == 0, out.err
        assert "added 2" in out.out
        code = cli.main(["--data-dir", str(data), "add", "2101.01234"])
        assert code == 0 and "unchanged 1" in capsys.readouterr().out
        code = cli.main(["--data-dir", str(data), "add", "2101.99999"])
        out = capsys.readouterr()
        assert code == 1 and "arXiv has no paper 2101.99999" in out.err
        requests_before = len(server.requests)
        code = cli.main(["--data-dir", str(data), "add", "not-an-id"])
        assert code == 1 and "not an arXiv id or URL: not-an-id" in capsys.readouterr().err
        assert len(server.requests) == requests_before  # nothing went online
    with Library.open(data) as lib:
        paper = lib.get("arxiv:2101.01234")
        assert paper is not None and paper.title == "Scaling Things"
        assert paper.authors == ["Ada Lovelace", "Alan Turing"]


def test_cli_add_offline_is_one_line(monkeypatch, tmp_path, capsys):
    from tui import cli

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PAPERSHELF_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    code = cli.main(["--data-dir", str(tmp_path / "d"), "add", "2101.01234"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("papershelf: cannot reach arXiv") and err.count("\n") == 1
    assert "Traceback" not in err


def test_import_of_an_id_list_fetches(monkeypatch, tmp_path, lib):
    ids = tmp_path / "reading.txt"
    ids.write_text("https://arxiv.org/abs/2408.10188\nhep-th/9901001v3\n", encoding="utf-8")
    with Server() as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        report = lib.import_files([ids])
    assert len(report.added) == 2, report.rejected
    titles = {lib.get(k).title for k in report.added}
    assert titles == {"LongVILA: Long-Context VLMs", "Old Strings"}
