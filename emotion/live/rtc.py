"""Which ICE (STUN/TURN) servers the webcam stream may use.

Offline by default: ``{"iceServers": []}``, so the browser and the server
connect directly (same machine or LAN) and nothing is sent to a public
server. Behind NAT (a cloud deployment seen from a home network) set servers
in the environment or in ``.streamlit/secrets.toml``; the environment wins.

Environment:

* ``EMOTION_RTC_CONFIGURATION``: a whole RTCConfiguration as JSON,
  e.g. ``{"iceServers": [{"urls": ["stun:stun.example.org:3478"]}]}``;
* or ``EMOTION_ICE_SERVERS``: comma-separated URLs (``stun:host:3478,turn:host:3478``)
  or a JSON list of server objects, with ``EMOTION_TURN_USERNAME`` and
  ``EMOTION_TURN_CREDENTIAL`` for ``turn:``/``turns:`` URLs.

``secrets.toml``::

    [webrtc]
    ice_servers = [
      { urls = ["stun:stun.example.org:3478"] },
      { urls = ["turn:turn.example.org:3478"], username = "user", credential = "secret" },
    ]

>>> rtc_configuration(env={}, secrets={}).config
{'iceServers': []}
>>> rtc_configuration(env={"EMOTION_ICE_SERVERS": "stun:stun.example.org:3478"}).config
{'iceServers': [{'urls': ['stun:stun.example.org:3478']}]}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import SettingsError

_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


@dataclass(frozen=True)
class RtcConfig:
    """An RTCConfiguration for ``webrtc_streamer`` and where it came from (for the page)."""

    config: dict
    source: str

    @property
    def offline(self) -> bool:
        return not self.config["iceServers"]


def _server(entry: Any, where: str) -> dict:
    if not isinstance(entry, Mapping):
        raise SettingsError(f"{where}: each ICE server must be an object with 'urls', got {entry!r}")
    urls = entry.get("urls", entry.get("url"))
    urls = [urls] if isinstance(urls, str) else list(urls or [])
    if not urls or not all(isinstance(u, str) and u.startswith(_SCHEMES) for u in urls):
        raise SettingsError(f"{where}: ICE server urls must start with {', '.join(_SCHEMES)}; got {urls!r}")
    server = {"urls": urls}
    needs_auth = any(u.startswith(("turn:", "turns:")) for u in urls)
    for key in ("username", "credential"):
        if entry.get(key) is not None:
            server[key] = str(entry[key])
        elif needs_auth:
            raise SettingsError(f"{where}: a TURN server ({urls[0]}) needs '{key}'")
    return server


def _servers(value: Any, where: str) -> list[dict]:
    if not isinstance(value, (list, tuple)):
        raise SettingsError(f"{where}: expected a list of ICE servers, got {type(value).__name__}")
    return [_server(e, where) for e in value]


def _from_env(env: Mapping[str, str]) -> RtcConfig | None:
    whole = env.get("EMOTION_RTC_CONFIGURATION", "").strip()
    if whole:
        try:
            parsed = json.loads(whole)
        except ValueError as exc:
            raise SettingsError(f"EMOTION_RTC_CONFIGURATION is not valid JSON ({exc}); expected e.g. "
                                '{"iceServers": [{"urls": ["stun:host:3478"]}]}') from None
        if not isinstance(parsed, dict):
            raise SettingsError("EMOTION_RTC_CONFIGURATION must be a JSON object with an 'iceServers' list")
        config = dict(parsed)
        config["iceServers"] = _servers(parsed.get("iceServers", []), "EMOTION_RTC_CONFIGURATION")
        return RtcConfig(config, "environment (EMOTION_RTC_CONFIGURATION)")
    listed = env.get("EMOTION_ICE_SERVERS", "").strip()
    if not listed:
        return None
    if listed.startswith("["):
        try:
            servers = _servers(json.loads(listed), "EMOTION_ICE_SERVERS")
        except ValueError as exc:
            raise SettingsError(f"EMOTION_ICE_SERVERS is not valid JSON ({exc})") from None
    else:
        auth = {k: env.get(f"EMOTION_TURN_{k.upper()}") for k in ("username", "credential")}
        servers = []
        for url in (u.strip() for u in listed.split(",") if u.strip()):
            entry = {"urls": [url]}
            if url.startswith(("turn:", "turns:")):
                entry.update({k: v for k, v in auth.items() if v is not None})
            servers.append(_server(entry, "EMOTION_ICE_SERVERS"))
    return RtcConfig({"iceServers": servers}, "environment (EMOTION_ICE_SERVERS)")


def rtc_configuration(env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None) -> RtcConfig:
    """The RTCConfiguration to use: environment, else ``secrets["webrtc"]``, else offline (no ICE servers).

    ``secrets`` is ``st.secrets`` (or any mapping of the same shape); the
    library never reads Streamlit itself. Raises :class:`SettingsError` with
    the offending source when a value is malformed.
    """
    found = _from_env(os.environ if env is None else env)
    if found is not None:
        return found
    section = (secrets or {}).get("webrtc") if secrets is not None else None
    if section:
        if not isinstance(section, Mapping):
            raise SettingsError("secrets.toml: [webrtc] must be a table with an ice_servers list")
        if "ice_servers" in section:
            return RtcConfig({"iceServers": _servers(section["ice_servers"], "secrets.toml [webrtc] ice_servers")},
                             "secrets.toml [webrtc]")
    return RtcConfig({"iceServers": []}, "offline default (no STUN/TURN servers)")
