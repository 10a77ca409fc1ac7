"""How the REST service runs, and which analysis settings a client may choose per request.

:class:`ServiceConfig` is validated once, when made, against the limits in
:data:`emotion.settings.LIMITS` (``port``, ``workers``, ``max_upload_mb``,
``result_ttl_h``). The model, backend and face-model file are the server's
choice (a client must not make the server load files it names); a client
picks per request only the options in :data:`CLIENT_SETTINGS` and
:data:`CLIENT_FILM_SETTINGS`.

>>> ServiceConfig(workers=0)
Traceback (most recent call last):
...
emotion.errors.SettingsError: workers must be an integer from 1 to 256 analyses at once, got 0
>>> client_settings(Settings(detector="haar"), {"fps": 2, "min_face": 30})[1].fps
2.0
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from ..paths import cache_dir
from ..settings import FilmSettings, Settings, check_number

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: options of :class:`~emotion.settings.Settings` a client may set per request
CLIENT_SETTINGS = ("detector", "min_face", "threshold", "margin", "max_side")
#: options of :class:`~emotion.settings.FilmSettings` a client may set per film job (plus ``segments``)
CLIENT_FILM_SETTINGS = ("fps", "scene_detector", "scene_threshold", "min_scene_len", "smoothing", "track_iou",
                        "thorough")


def _default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 256))


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service needs to run, validated on construction.

    ``settings``: the model, backend and face detector every analysis starts from.
    ``workers``: film analyses at once (default: one per core); more jobs wait in the queue.
    ``max_upload_mb``: the largest film or reaction upload accepted, in MB (10^6 bytes).
    ``max_photo_mb``: the largest photo ``/v1/images`` accepts (50 MB, as the Image page).
    ``max_queued``: film and audience jobs that may wait; past it a new job gets 503 with ``Retry-After``.
    ``max_photos_at_once``: photos analysed at the same time; past it a photo gets 503 with ``Retry-After``.
    ``result_ttl_h``: hours a finished job and its results are kept.
    ``api_key``: when set, every ``/v1`` request needs ``Authorization: Bearer <key>``.
    ``media_dir``: the server folder ``{"path": ...}`` film jobs may name (``$EMOTION_MEDIA_DIR``).
    ``state_dir``: job records, uploads and results (default ``<emotion cache>/service``).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    settings: Settings = field(default_factory=Settings)
    workers: int = field(default_factory=_default_workers)
    max_upload_mb: float = 2000.0
    max_photo_mb: float = 50.0
    max_queued: int = 16
    max_photos_at_once: int = 24
    result_ttl_h: float = 24.0 * 7
    api_key: str | None = None
    media_dir: str | None = None
    state_dir: str | None = None
    allow_remote: bool = False

    def __post_init__(self) -> None:
        for name in ("port", "workers", "max_upload_mb", "max_photo_mb", "max_queued", "max_photos_at_once",
                     "result_ttl_h"):
            object.__setattr__(self, name, check_number(name, getattr(self, name)))
        if not isinstance(self.settings, Settings):
            raise SettingsError(f"settings must be an emotion.Settings, got {type(self.settings).__name__}")
        if self.api_key is not None and not str(self.api_key).strip():
            object.__setattr__(self, "api_key", None)  # an empty EMOTION_API_KEY means no key, not the key ""
        if self.media_dir is not None and not Path(self.media_dir).is_dir():
            raise SettingsError(f"the media folder {self.media_dir} does not exist; create it or unset "
                                "EMOTION_MEDIA_DIR")
        if not self.host:
            raise SettingsError("host must be an address to listen on, such as 127.0.0.1")

    @classmethod
    def from_env(cls, **kw) -> ServiceConfig:
        """A config with ``api_key`` from ``$EMOTION_API_KEY`` and ``media_dir`` from ``$EMOTION_MEDIA_DIR``."""
        kw.setdefault("api_key", os.environ.get("EMOTION_API_KEY") or None)
        kw.setdefault("media_dir", os.environ.get("EMOTION_MEDIA_DIR") or None)
        return cls(**kw)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000)

    @property
    def max_photo_bytes(self) -> int:
        return int(self.max_photo_mb * 1_000_000)

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir) if self.state_dir else cache_dir("service")

    @property
    def local_only(self) -> bool:
        return self.host in LOCAL_HOSTS


def client_settings(base: Settings, options: dict[str, Any] | None) -> tuple[Settings, FilmSettings]:
    """``(Settings, FilmSettings)`` for a request's ``settings`` object (``segments`` goes into the
    FilmSettings), or SettingsError.

    Unknown names are refused with the list of names accepted, so a typo does not run a
    whole film with defaults.
    """
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise SettingsError("settings must be a JSON object such as {\"fps\": 2}")
    allowed = (*CLIENT_SETTINGS, *CLIENT_FILM_SETTINGS, "segments")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; the service accepts {', '.join(allowed)}")
    settings = base.replace(**{k: options[k] for k in CLIENT_SETTINGS if k in options})
    segments = options.get("segments", "scenes")
    if not isinstance(segments, str):
        raise SettingsError(f"segments must be 'scenes', 'shots' or 'every:N', got {segments!r}")
    film = FilmSettings(**{k: options[k] for k in CLIENT_FILM_SETTINGS if k in options}, segments=segments)
    return settings, film
