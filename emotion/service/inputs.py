"""What the service makes of a request: errors with a status, JSON bodies and settings, media paths, image
headers, and the offline API reference page. The routes in :mod:`emotion.service.app` use these.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import ServiceConfig


class ApiError(Exception):
    """An answer other than 2xx: ``status`` and a ``detail`` for the client (``retry_after`` s for a 503)."""

    def __init__(self, status: int, detail: str, retry_after: int | None = None):
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


#: The first bytes of the image files /v1/images reads (checked before anything is decoded).
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def _looks_like_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _settings_field(text: str | None, name: str = "settings", example: str = '{"fps": 2}') -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(400, f"the '{name}' field is not valid JSON; send an object such as {example}") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"the '{name}' field must be a JSON object such as {example}")
    return value


async def _json_body(request, example: str) -> dict:
    """A JSON request body that must be an object, or ApiError showing ``example``."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, f"the body is not valid JSON; send {example}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object such as {example}")
    return body


def _json_settings(body: dict) -> dict:
    options = body.get("settings") or {}
    if not isinstance(options, dict):
        raise ApiError(400, "settings must be a JSON object such as {\"fps\": 2}")
    return options


def _media_path(config: ServiceConfig, path: str) -> Path:
    """A film inside the media folder, or ApiError (no folder, outside it, missing)."""
    if config.media_dir is None:
        raise ApiError(400, "this server has no media folder; upload the film as multipart 'file', or start the "
                            "service with EMOTION_MEDIA_DIR set")
    if "\x00" in path or len(path) > 4096:
        raise ApiError(400, "the path has a NUL byte or is too long; name a film inside the media folder, relative "
                            "to it")
    root = Path(config.media_dir).resolve()
    try:
        target = (root / path).resolve()
    except (OSError, ValueError):
        raise ApiError(400, f"{path[:200]}: not a usable path; name a film inside the media folder") from None
    if not target.is_relative_to(root):
        raise ApiError(400, f"{path}: outside the media folder; name a film inside it, relative to it")
    if not target.is_file():
        raise ApiError(404, f"{path}: no such film in the media folder; check the name (relative to the folder)")
    return target



def _reference_html(spec: dict) -> str:
    """The API as one self-contained HTML page (no script, no CDN): every route, what it takes, what it answers."""
    import html

    rows = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            takes = ", ".join(sorted(body)) or "–"
            answers = ", ".join(sorted(op.get("responses", {})))
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(takes)}</td>"
                        f"<td>{html.escape(answers)}</td></tr>")
    info = spec.get("info", {})
    return ("<!doctype html><html lang=en><head><meta charset=utf-8><title>API reference</title>"
            "<style>body{font-family:sans-serif;margin:2rem;max-width:70rem}td,th{padding:.3rem .6rem;"
            "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}</style></head><body>"
            f"<h1>{html.escape(info.get('title', 'API'))}</h1><p>{html.escape(info.get('description', ''))}</p>"
            "<p>This page works offline. The machine-readable description is <a href=/openapi.json>/openapi.json</a>; "
            "the interactive <a href=/docs>/docs</a> loads Swagger UI from a CDN and needs the internet.</p>"
            "<table><tr><th>method</th><th>path</th><th>what it does</th><th>takes</th><th>answers</th></tr>"
            + "".join(rows) + "</table></body></html>")
