"""Request bodies: every route refuses a large body before reading it; the import API and the console's
uploads keep their own, larger limits."""
import io

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from helpers import advisors, make_app, signed_in, upload
from sidebar.materials import samples

MB = 1024 * 1024
BOUNDARY = "sidebarLimitTest"


class LazyBody(io.RawIOBase):
    """A multipart body with one file field of `size` bytes, made as it is read; `consumed` is how far
    it was read (the test client seeks back to the start when it is done)."""

    def __init__(self, size):
        self._head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n").encode()
        self._tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self._file = size
        self.length = len(self._head) + size + len(self._tail)
        self.position = self.consumed = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        """Move to an absolute offset (all the test client asks for)."""
        self.position = offset
        return offset

    def tell(self):
        return self.position

    def readinto(self, buffer):
        """Fill buffer from the part of the body not read yet."""
        offset, head = self.position, len(self._head)
        if offset < head:
            chunk = self._head[offset:offset + len(buffer)]
        elif offset < head + self._file:
            chunk = b"\0" * min(len(buffer), head + self._file - offset)
        else:
            start = offset - head - self._file
            chunk = self._tail[start:start + len(buffer)]
        buffer[:len(chunk)] = chunk
        self.position += len(chunk)
        self.consumed = max(self.consumed, self.position)
        return len(chunk)


def post_big(client, path, size, **headers):
    """POST a multipart body of about `size` bytes as client; (status, how many bytes the app read).

    Run as a WSGI call of its own: the test client would measure (read) the stream first.
    """
    body = LazyBody(size)
    session = client.get_cookie("sidebar_session")
    if session:
        headers["Cookie"] = f"sidebar_session={session.value}"
    environ = EnvironBuilder(path=path, method="POST", input_stream=body, headers=headers,
                             content_type=f"multipart/form-data; boundary={BOUNDARY}").get_environ()
    environ["CONTENT_LENGTH"] = str(body.length)  # the builder does not measure a stream
    _, status, _ = run_wsgi_app(client.application, environ, buffered=True)  # buffered: run and closed
    return int(status.split()[0]), body.consumed


@pytest.mark.parametrize("path", ["/auth/logout", "/sidebar/contacts/wm0000000000000000000000000000/notes",
                                  "/sidebar/shares/1", "/jssdk/signature/refused"])
def test_a_60_mb_body_without_a_session_is_refused_unread(client, path):
    status, read = post_big(client, path, 60 * MB)
    assert status == 413
    assert read < 64 * 1024, f"{read} bytes read before the refusal"


def test_a_signed_in_advisor_is_held_to_one_megabyte_too(app, world):
    advisor = signed_in(app, advisors(world)[0])
    status, read = post_big(advisor, "/auth/logout", 2 * MB, **{"X-CSRFToken": advisor.csrf})
    assert status == 413 and read < 64 * 1024
    assert advisor.get("/sidebar/").status_code == 200, "still signed in: the body was refused, not the request"


def test_the_import_api_and_console_uploads_keep_their_larger_limits(tmp_path, emulator, library_app):
    token = "request-limit-import-token-" + "z" * 20
    api = make_app(tmp_path / "api.db", emulator.url, SIDEBAR_IMPORT_TOKEN=token).test_client()
    rows = [{"account_id": "880000000001", "name": "大额导入", "note": "x" * (3 * MB)}]
    answer = api.post("/api/v1/client-profiles", json=rows, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.status_code
    editor = signed_in(library_app, "zhaomin")
    stored = upload(editor, "file", samples.pdf() + b"\0" * (3 * MB), "report.pdf", "application/pdf")
    assert stored.status_code == 303, stored.status_code
