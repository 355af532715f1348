#!/usr/bin/env python3
"""A stand-in for the Glassix API, for trying the webhooks locally.

    python3 scripts/glassix-stub.py 8080
    GLASSIX_BASE_URL=http://127.0.0.1:8080/api/v1.2 scripts/run-local.sh

Answers token/get, tickets/get (the ticket fixture, with the requested id), addtags, addnote and
scramble the way the documented API does, serves each attachment's file at the `uri` it hands
out (as Glassix's pre-signed links do; 4 KiB of bytes per file), and prints one line per request
it receives.

Two optional variables serve another ticket (the browser test's):
    GLASSIX_STUB_TICKET=path/to/ticket.json   the ticket to answer instead of the fixture
    GLASSIX_STUB_FILES=path/to/folder         an attachment whose fileIdentifier names a file
                                              there is served with that file's bytes and type
"""
import hashlib
import json
import mimetypes
import os
import pathlib
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "shared" / "fixtures" / "glassix"
TOKEN = (FIXTURES / "token-response.json").read_bytes()
TICKET = json.loads(pathlib.Path(os.environ.get("GLASSIX_STUB_TICKET") or FIXTURES / "ticket.json").read_text("utf-8"))
FILES = pathlib.Path(os.environ["GLASSIX_STUB_FILES"]) if os.environ.get("GLASSIX_STUB_FILES") else None
# (transaction id, attachment id) -> fileIdentifier, for GLASSIX_STUB_FILES.
FILE_NAMES = {
    (str(t["id"]), str(a.get("id"))): a.get("fileIdentifier") or ""
    for t in TICKET["transactions"]
    for a in t.get("attachments") or []
}
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
        if path.startswith("/files/") and self.command == "GET":
            return self._file(path)
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
            ticket["transactions"] = [self._linked(ticket_id, t) for t in TICKET["transactions"]]
            return self._answer(200, json.dumps(ticket).encode())
        if action == "addtags":
            return self._answer(200, json.dumps(json.loads(body or b"[]")).encode())
        if action == "scramble":
            scrambled.add(ticket_id)
        return self._answer(200)

    def _linked(self, ticket_id, transaction):
        """The transaction with each attachment's link pointing at this stub."""
        host = self.headers.get("host", "127.0.0.1")
        attachments = [
            dict(a, uri=f"http://{host}/files/{ticket_id}/{transaction['id']}/{a['id']}?X-Amz-Expires=21600")
            for a in transaction.get("attachments") or []
        ]
        return dict(transaction, attachments=attachments)

    def _file(self, path):
        body, content_type = hashlib.sha256(path.encode()).digest() * 128, "image/jpeg"
        parts = path.split("/")  # ["", "files", ticket, transaction, attachment]
        name = FILE_NAMES.get(tuple(parts[3:5]), "") if len(parts) == 5 else ""
        if FILES and name and (FILES / name).is_file():
            body = (FILES / name).read_bytes()
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _route

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    print(f"glassix-stub: listening on http://127.0.0.1:{port}/api/v1.2", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Glassix).serve_forever()
