"""A local stand-in for the EC2 instance metadata service (IMDSv2 only), for drain tests."""

from __future__ import annotations

import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeInstanceMetadata:
    """Serves a token on PUT /latest/api/token and metadata on GET, refusing any GET without the token."""

    def __init__(self, instance_id: str = "i-0123456789abcdef0") -> None:
        self.token = secrets.token_hex(16)
        self.values: dict[str, str] = {"instance-id": instance_id, "autoscaling/target-lifecycle-state": "InService"}
        self.unauthenticated_gets = 0
        self.token_requests = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    self._send(400, "")
                    return
                stand_in.token_requests += 1
                self._send(200, stand_in.token)

            def do_GET(self) -> None:
                if self.headers.get("X-aws-ec2-metadata-token") != stand_in.token:
                    stand_in.unauthenticated_gets += 1
                    self._send(401, "")
                    return
                key = self.path.removeprefix("/latest/meta-data/")
                value = stand_in.values.get(key)
                self._send(404, "") if value is None else self._send(200, value)

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeInstanceMetadata:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def announce_spot_interruption(self) -> None:
        """Publish a Spot interruption notice, as EC2 does about two minutes ahead."""
        self.values["spot/instance-action"] = '{"action": "terminate", "time": "2026-12-01T00:00:00Z"}'
