#!/usr/bin/env python3
"""A stand-in for the Glassix API, for trying the webhooks locally.

    python3 scripts/glassix-stub.py 8080
    GLASSIX_BASE_URL=http://127.0.0.1:8080/api/v1.2 scripts/run-local.sh

Answers token/get, tickets/get (the ticket fixture, with the requested id), addtags, addnote and
scramble the way the documented API does, and prints one line per request it receives.
"""
import json
import pathlib
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "shared" / "fixtures" / "glassix"
TOKEN = (FIXTURES / "token-response.json").read_bytes()
TICKET = json.loads((FIXTURES / "ticket.json").read_text("utf-8"))
scrambled = set()


class Glassix(BaseHTTPRequestHandler):
    def _answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        print(f"glassix-stub: {self.command} {self.path} {body[:200].decode('utf-8', 'replace')}", flush=True)
        path = self.path.split("?")[0]
        if path.endswith("/token/get") and self.command == "POST":
            return self._answer(200, TOKEN)
        if not self.headers.get("authorization", "").startswith("Bearer "):
            return self._answer(401, b'{"Message":"Authorization has been denied for this request."}')
        match = re.search(r"/tickets/(get|addtags|addnote|scramble)/(\d+)$", path)
        if not match:
            return self._answer(404, b'{"Message":"No HTTP resource was found."}')
        action, ticket_id = match.group(1), int(match.group(2))
        if action == "get":
            ticket = dict(TICKET, id=ticket_id, isScrambled=ticket_id in scrambled)
            return self._answer(200, json.dumps(ticket).encode())
        if action == "addtags":
            return self._answer(200, json.dumps(json.loads(body or b"[]")).encode())
        if action == "scramble":
            scrambled.add(ticket_id)
        return self._answer(200)

    do_GET = do_POST = do_DELETE = _route

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    print(f"glassix-stub: listening on http://127.0.0.1:{port}/api/v1.2", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Glassix).serve_forever()
