"""A local stand-in for the arXiv API's title search, answering in its Atom shape.

The catalogue maps arXiv ids to (title as arXiv writes it, authors, published date). A
request's `search_query` is read as arXiv would: OR-ed groups of `ti:"..."` phrases ANDed;
an entry is returned when its title holds every word of a group, so near-miss titles come
back too and the client has to reject them. Modes: "ok", "fail_after" (HTTP 503 from request
`after` + 1 on), "stall_after" (answers that never come in time from then on).
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from index.model import normalise_title


def atom(entries) -> str:
    body = []
    for arxiv_id, (title, authors, date) in entries:
        people = "".join(f"<author><name>{escape(a)}</name></author>" for a in authors)
        body.append(f"""<entry>
<id>http://arxiv.org/abs/{arxiv_id}v2</id><published>{date}T17:59:00Z</published>
<updated>{date}T17:59:00Z</updated><title>{escape(title)}</title>
<summary>  The abstract as arXiv has it.
</summary>{people}<arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.5555/{arxiv_id}</arxiv:doi>
<link href="http://arxiv.org/abs/{arxiv_id}v2" rel="alternate" type="text/html"/>
<link title="pdf" href="http://arxiv.org/pdf/{arxiv_id}v2" rel="related" type="application/pdf"/>
<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CL"/>
<category term="cs.CL"/><category term="cs.LG"/></entry>""")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            '<title type="html">ArXiv Query: search_query</title>'
            '<id>http://arxiv.org/api/x</id>' + "".join(body) + "</feed>")


def groups(search_query: str) -> list[list[str]]:
    """`(ti:"a b" AND ti:"c") OR (ti:"d")` -> [[a, b, c], [d]]."""
    out = []
    for group in re.split(r"\)\s+OR\s+\(|\s+OR\s+", search_query):
        words = []
        for phrase in re.findall(r'ti:"([^"]*)"', group):
            words += phrase.split()
        if words:
            out.append(words)
    return out


class ArxivServer:
    def __init__(self, catalogue: dict, mode: str = "ok", after: int = 0, work: float = 0.0):
        self.catalogue, self.mode, self.after, self.work = catalogue, mode, after, work
        self.requests: list[dict] = []
        self.server_seconds = 0.0  # time spent answering, for the benchmark
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                start = time.perf_counter()
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                outer.requests.append(query)
                n = len(outer.requests)
                if outer.mode == "fail_after" and n > outer.after:
                    self.send_error(503, "Service Unavailable")
                    return
                if outer.mode == "stall_after" and n > outer.after:
                    outer.release.wait(5)
                    return
                if outer.work:
                    time.sleep(outer.work)  # what the real service spends searching
                body = outer.answer(query).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                outer.server_seconds += time.perf_counter() - start

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/query"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, query: dict) -> str:
        wanted = groups(query.get("search_query", [""])[0])
        limit = int(query.get("max_results", ["10"])[0])
        found = []
        for arxiv_id, entry in self.catalogue.items():
            words = set(normalise_title(entry[0]).split())
            if any(all(w in words for w in group) for group in wanted):
                found.append((arxiv_id, entry))
        return atom(found[:limit])

    def __enter__(self) -> ArxivServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
