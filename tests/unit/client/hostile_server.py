"""A hostile sign-in server for the client's tests: a real HTTP server on 127.0.0.1 that answers the SSO portal
and SSO-OIDC calls botocore makes with whatever JSON a test gives it, so the client's own checks of what a
server sends can be shown to hold."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answers = dict[str, Any]  # path without the query -> the JSON body answered with 200


@contextmanager
def hostile_server(answers: Answers) -> Iterator[str]:
    """Serve `answers` until the block ends; yields the base URL. Unknown paths answer 404."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            found = answers.get(path)
            body = json.dumps(found if found is not None else {"message": "no"}).encode()
            self.send_response(200 if found is not None else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
