"""Multipart uploads streamed straight to disk, with a size limit, and clear errors for bad ones.

A film can be gigabytes: the request body is parsed chunk by chunk as it
arrives (``python-multipart``'s streaming parser) and the ``file`` part is
written to a file as it goes, never held whole in memory. The upload is
refused with 413 as soon as it passes the limit (at once when the declared
``Content-Length`` already does). Small text fields (such as ``settings``)
are kept in memory: at most 16 of them, 64 KB each and 256 KB together.

A client's file name is kept for display and results (:func:`display_name`);
on disk the file gets :func:`safe_name`, cut to 120 bytes of UTF-8 (a 94-character
Japanese title is 274 bytes, over most file systems' 255). Files are written
0600: uploaded faces are not for other local users.

Every problem becomes :class:`UploadError` with an HTTP status and a
``detail`` that says what was wrong and what to do.

>>> safe_name('../../etc/passwd')
'passwd'
>>> safe_name('Trailer final (v2).mp4')
'Trailer final (v2).mp4'
>>> len(safe_name('映画' * 60 + '.mp4').encode())
118
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_FIELD_LIMIT = 64 * 1024
#: Bytes handed to the parser (in a worker thread) at a time.
_PARSE_BATCH = 1 << 20
#: Text fields per request, and their total size: a client cannot fill the server's memory with form fields.
MAX_FIELDS = 16
_FIELDS_TOTAL = 256 * 1024
#: Longest stored file name, in bytes of UTF-8 (file systems allow 255; the folder adds nothing to it).
_NAME_BYTES = 120
_UNSAFE = re.compile(r"[^\w .()\-+,&'\[\]]")


class UploadError(Exception):
    """A request the service refuses: ``status`` (4xx) and a ``detail`` for the client."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Upload:
    """A received upload: the client's file name, where it is on disk, its size, and the text fields."""

    name: str
    path: Path
    size: int
    fields: dict[str, str] = field(default_factory=dict)


def safe_name(name: str, default: str = "upload") -> str:
    """The last part of a client's file name, without characters that could escape a folder, and short
    enough for any file system (at most 120 bytes of UTF-8, the extension kept)."""
    base = re.split(r"[\\/]", str(name or ""))[-1].strip().lstrip(".")
    base = _UNSAFE.sub("_", base)
    if len(base.encode("utf-8")) > _NAME_BYTES:
        stem, dot, ext = base.rpartition(".")
        ext = f".{ext}" if dot and len(ext.encode()) <= 16 else ""
        stem = base[:len(base) - len(ext)] if ext else base
        budget = _NAME_BYTES - len(ext.encode())
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
        base = stem + ext
    return base or default


def display_name(name: str, default: str = "upload") -> str:
    """A client's file name as it should be shown and name the results: the last part of the path, without
    control characters, at most 200 characters.

    >>> display_name('/home/ana/clips/予告編 最終版.mp4')
    '予告編 最終版.mp4'
    """
    base = re.split(r"[\\/]", str(name or ""))[-1].strip()
    base = "".join(c for c in base if c.isprintable())[:200].strip()
    return base or default


def _megabytes(n: int) -> str:
    return f"{n / 1e6:g} MB"


class _Receiver:
    """Callbacks for the streaming parser: routes each part to a file or a small text buffer.

    ``file_fields``: the form fields that carry files, each with the most files it may carry (None: any).
    With one such field the file goes straight into ``folder``; with several, each file gets its own
    sub-folder (``<field><n>/``), so two files of the same name never collide.
    """

    def __init__(self, folder: Path, file_fields: dict[str, int | None]):
        self.folder, self.file_fields = folder, dict(file_fields)
        self.headers: dict[bytes, bytes] = {}
        self._name = b""
        self._value = b""
        self.part: str | None = None
        self.filename: str | None = None
        self.file_name: str | None = None  # the client's name of the 'file' part
        self.out = None
        self.path: Path | None = None
        self.size = 0
        self.buffer = bytearray()
        self.fields: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.uploads: dict[str, list[Upload]] = {}
        self._part_size = 0
        self._fields_total = 0
        self.ended = False

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
                "on_part_end": self.part_end, "on_end": self.end}

    def part_begin(self) -> None:
        self.headers, self.part, self.filename = {}, None, None
        self.buffer = bytearray()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self.headers[self._name.lower()] = self._value
        self._name, self._value = b"", b""

    def headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise UploadError(400, "a multipart part has no name; send the file as the form field 'file'")
        self.part = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        self.filename = filename.decode("utf-8", "replace") if filename is not None else None
        if self.part not in self.file_fields and self.filename is not None:
            fields = " and ".join(f"'{f}'" for f in self.file_fields)
            raise UploadError(400, f"a file came in the form field '{self.part[:40]}', which takes no file; send it "
                                   f"as the form field {fields} (curl -F {next(iter(self.file_fields))}=@FILE)")
        if self.part not in self.file_fields and len(self.fields) >= MAX_FIELDS:
            raise UploadError(400, f"more than {MAX_FIELDS} form fields; send the file and a 'settings' JSON object")
        if self.part in self.file_fields:
            n = self.counts[self.part] = self.counts.get(self.part, 0) + 1
            most = self.file_fields[self.part]
            if most is not None and n > most:
                raise UploadError(400, f"more than one '{self.part}' part; send one {self.part} per request")
            folder = self.folder if len(self.file_fields) == 1 else self.folder / f"{self.part}{n}"
            folder.mkdir(parents=True, exist_ok=True)
            self.file_name = self.filename
            self.path = folder / safe_name(self.filename or "", "upload")
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            except OSError as exc:
                if exc.errno == errno.ENAMETOOLONG:
                    raise UploadError(400, "the file name is too long to store; rename the file") from None
                raise UploadError(507, "the server could not store the upload (its disk is full or not "
                                       "writable); try again later or tell its operator") from None
            self.out = os.fdopen(fd, "wb")
            self._part_size = 0

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.out is not None:
            self.out.write(data[start:end])
            self.size += end - start
            self._part_size += end - start
        elif self.part is not None:
            self.buffer += data[start:end]
            self._fields_total += end - start
            if len(self.buffer) > _FIELD_LIMIT:
                raise UploadError(413, f"the form field '{self.part[:40]}' is over 64 KB; send settings as a small "
                                       "JSON object")
            if self._fields_total > _FIELDS_TOTAL:
                raise UploadError(413, "the form fields are over 256 KB together; send the file and a small "
                                       "'settings' JSON object")

    def part_end(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
            self.uploads.setdefault(self.part, []).append(
                Upload(self.file_name or self.path.name, self.path, self._part_size))
        elif self.part is not None:
            self.fields[self.part] = self.buffer.decode("utf-8", "replace")

    def end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


async def receive_upload(request, folder: str | os.PathLike, max_bytes: int, file_field: str = "file") -> Upload:
    """Stream a ``multipart/form-data`` request's ``file`` part into ``folder``; raises :class:`UploadError`.

    >>> upload = await receive_upload(request, "/srv/uploads/job1", 2_000_000_000)   # doctest: +SKIP
    >>> upload.name, upload.size                                                      # doctest: +SKIP
    ('trailer.mp4', 48213318)
    """
    files, fields = await receive_files(request, folder, max_bytes, {file_field: 1})
    upload = files[file_field][0]
    return Upload(upload.name, upload.path, upload.size, fields)


async def receive_files(request, folder: str | os.PathLike, max_bytes: int,
                        file_fields: dict[str, int | None]) -> tuple[dict[str, list[Upload]], dict[str, str]]:
    """Stream a multipart request's files into ``folder``: ``({field: [Upload, ...]}, {text field: value})``.

    ``file_fields`` names the fields that carry files and how many each may carry (None: any number);
    every one must carry at least one. ``max_bytes`` limits all the files together. Raises
    :class:`UploadError`.

    >>> files, fields = await receive_files(request, "/srv/uploads/job2", 2_000_000_000,
    ...                                     {"film": 1, "reaction": None})                # doctest: +SKIP
    >>> [u.name for u in files["reaction"]]                                            # doctest: +SKIP
    ['row1.mp4', 'row2.mp4']
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    file_field = next(iter(file_fields))

    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data":
        raise UploadError(415, f"expected a multipart/form-data upload with the file in the field '{file_field}' "
                               f"(curl -F {file_field}=@FILE), got content type "
                               f"{ctype.decode('latin-1') or 'none'}")
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadError(400, "the multipart upload has no boundary in its Content-Type header; let your HTTP "
                               "client build the form (curl -F, requests files=...)")
    declared = request.headers.get("content-length")
    # the body carries a little multipart framing around the file: allow 64 KB of it
    limit = max_bytes + _FIELD_LIMIT
    if declared and declared.isdigit() and int(declared) > limit:
        raise UploadError(413, f"the upload is {_megabytes(int(declared))}, over the limit of "
                               f"{_megabytes(max_bytes)}; send a smaller file or ask the operator to raise "
                               "--max-upload-mb")
    from starlette.concurrency import run_in_threadpool

    receiver = _Receiver(Path(folder), file_fields)
    parser = MultipartParser(boundary, receiver.callbacks())
    received = 0
    pending = bytearray()
    try:
        # Parsing and writing to disk happen in a worker thread, about a megabyte at a time, so the event loop
        # (and /health) stays free while many uploads arrive at once.
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit or receiver.size > max_bytes:
                raise UploadError(413, f"the upload is over the limit of {_megabytes(max_bytes)}; send a smaller "
                                       "file or ask the operator to raise --max-upload-mb")
            pending += chunk
            if len(pending) >= _PARSE_BATCH:
                await run_in_threadpool(parser.write, bytes(pending))
                pending.clear()
        if pending:
            await run_in_threadpool(parser.write, bytes(pending))
        parser.finalize()
    except UploadError:
        receiver.close()
        raise
    except Exception as exc:  # the parser's errors, and a client that hung up half-way
        receiver.close()
        from python_multipart.exceptions import FormParserError

        if isinstance(exc, FormParserError) or type(exc).__name__ == "ClientDisconnect":
            raise UploadError(400, "the multipart upload is malformed or was cut off; send it again") from None
        raise
    finally:
        receiver.close()
    if not receiver.ended:
        raise UploadError(400, "the multipart upload is malformed or was cut off (no closing boundary); send it again")
    if receiver.size > max_bytes:
        raise UploadError(413, f"the upload is over the limit of {_megabytes(max_bytes)}; send a smaller file or "
                               "ask the operator to raise --max-upload-mb")
    for name in file_fields:
        if not receiver.uploads.get(name):
            what = "no file in the upload" if len(file_fields) == 1 else f"no '{name}' file in the upload"
            raise UploadError(400, f"{what}; send it as the multipart field '{name}' (curl -F {name}=@FILE)")
        for upload in receiver.uploads[name]:
            if upload.size == 0:
                raise UploadError(400, f"the uploaded file {safe_name(upload.name)} is empty (0 bytes); "
                                       "choose the file again")
    return {name: receiver.uploads[name] for name in file_fields}, receiver.fields
