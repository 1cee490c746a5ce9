"""A local stand-in for the Hugging Face Daily Papers API (`/api/daily_papers?date=...`),
answering with JSON in the API's shape that the tests write. Started in a thread on
127.0.0.1; modes: "ok", "503", "malformed", "stall" (headers, then silence)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def api_item(arxiv_id: str, title: str, summary: str, day: str,
             authors=("Mira Castellanos", "Tobiah Renner"), upvotes: int = 7) -> dict:
    """One element of the API's list: the paper nested under "paper", as the API sends it."""
    return {
        "paper": {
            "id": arxiv_id,
            "authors": [{"_id": f"a{n}", "name": name, "hidden": False}
                        for n, name in enumerate(authors)],
            "publishedAt": f"{day}T17:59:01.000Z",
            "submittedOnDailyAt": f"{day}T04:12:30.000Z",
            "title": title,
            "summary": summary,
            "upvotes": upvotes,
            "discussionId": f"d{arxiv_id}",
            "githubRepo": f"https://github.com/example/{arxiv_id.replace('.', '-')}",
            "ai_keywords": ["benchmark"],
        },
        "publishedAt": f"{day}T17:59:01.000Z",
        "title": title,
        "summary": summary,
        "thumbnail": f"https://cdn.example.org/{arxiv_id}.png",
        "numComments": 1,
        "submittedBy": {"_id": "u1", "fullname": "A Curator", "name": "curator"},
        "isAuthorParticipating": False,
    }


class DailyServer:
    def __init__(self, days: dict[str, list[dict]] | None = None, mode: str = "ok"):
        self.days = days or {}
        self.mode = mode
        self.requests: list[dict[str, list[str]]] = []
        self.release = threading.Event()  # ends a stall when the test is done
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parsed = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(parsed.query)
                outer.requests.append(query)
                if outer.mode == "503":
                    self.send_error(503, "Service Unavailable")
                    return
                if outer.mode == "malformed":
                    body = b'[{"paper": {"id": "2611.00001", "title": "Cut off'
                else:
                    day = query.get("date", [""])[0]
                    limit = int(query.get("limit", ["50"])[0])
                    page = int(query.get("p", ["0"])[0])
                    items = outer.days.get(day, [])
                    if isinstance(items, list):  # the API pages a day's list
                        items = items[page * limit:(page + 1) * limit]
                    body = json.dumps(items).encode("utf-8")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    promised = len(body) + (100 if outer.mode == "stall" else 0)
                    self.send_header("Content-Length", str(promised))
                    self.end_headers()
                    if outer.mode == "stall":
                        self.wfile.write(body[:5])
                        self.wfile.flush()
                        outer.release.wait(30)
                        return
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/daily_papers"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> DailyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        time.sleep(0)  # let a stalled handler see the release
        self.httpd.shutdown()
        self.httpd.server_close()
