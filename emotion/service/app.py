"""The REST API (FastAPI): photos answered at once, films as jobs in a bounded pool.

``GET /health``; ``POST /v1/images`` (multipart ``file``) -> the JSON object
``python -m emotion image --json`` prints; ``POST /v1/films`` (multipart
``file`` and optional ``settings`` JSON, or a JSON body ``{"path": ...,
"settings": {...}}`` naming a film in the media folder) -> 202 ``{"job": ID}``;
``GET /v1/jobs/ID``; ``DELETE /v1/jobs/ID`` (cancel, the checkpoint is kept);
``POST /v1/jobs/ID/resume``; ``GET /v1/films/ID/<scenes.csv | shots.csv |
frames.csv | report.json | report.html>``. ``POST /v1/audience`` (multipart
``film``, one or more ``reaction`` files, optional ``offsets`` and ``settings``
JSON, or a JSON body ``{"film": ..., "reactions": [...]}`` in the media folder)
-> 202 ``{"job": ID}``, the same job calls, results at ``GET
/v1/audience/ID/<scenes.csv | seconds.csv | viewers.csv | report.json |
report.html>``. OpenAPI docs at ``/docs``.

Every error is JSON ``{"detail": "..."}`` with a 4xx status that says what
was wrong (a 500 only for a bug). With an API key, every ``/v1`` request needs
``Authorization: Bearer <key>``, compared in constant time.

Back-pressure: at most ``max_queued`` film/audience jobs wait and at most
``max_photos_at_once`` photos are analysed at once; past either, the answer is
503 with ``Retry-After`` before the body is read, never a long wait. Photos have
their own size limit (``max_photo_mb``, 50 MB) and must start like an image file.
``/docs`` (Swagger UI) loads its code from a CDN and needs the internet; ``/reference``
lists the same API offline.

>>> app = create_app(ServiceConfig(settings=Settings(detector="haar")))   # doctest: +SKIP
>>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)         # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import shutil
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from ..errors import EmotionError
from ..audience.output import RESULT_FILES as AUDIENCE_FILES
from ..film.output import RESULT_FILES
from .audience import audience_settings, check_offset_range, check_offsets
from .config import ServiceConfig, client_settings
from .jobs import FINISHED, Job, JobStore, new_id
from .pool import JobPool, results_ready
from .inputs import (ApiError, _json_body, _json_settings, _looks_like_image, _media_path, _reference_html,
                     _settings_field)
from .uploads import UploadError, display_name, receive_files, receive_upload

log = logging.getLogger(__name__)

_FILE_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"},
                   "settings": {"type": "string", "description": "optional JSON object of settings"}}}}}}}
_FILM_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": _FILE_FORM["requestBody"]["content"]["multipart/form-data"],
    "application/json": {"schema": {"type": "object", "required": ["path"], "properties": {
        "path": {"type": "string", "description": "a film inside the server's EMOTION_MEDIA_DIR"},
        "settings": {"type": "object"}}}}}}}
_AUDIENCE_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["film", "reaction"], "properties": {
        "film": {"type": "string", "format": "binary"},
        "reaction": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "one or more reaction recordings (repeat the field)"},
        "offsets": {"type": "string", "description": "optional JSON object {reaction file name: seconds}"},
        "settings": {"type": "string", "description": "optional JSON object of settings"}}}},
    "application/json": {"schema": {"type": "object", "required": ["film", "reactions"], "properties": {
        "film": {"type": "string", "description": "a film inside the server's EMOTION_MEDIA_DIR"},
        "reactions": {"type": "array", "items": {"type": "string"}},
        "offsets": {"type": "object"}, "settings": {"type": "object"}}}}}}}


def create_app(config: ServiceConfig, cache_dir=None) -> FastAPI:
    """The FastAPI application for ``config``; the job pool starts and stops with it (lifespan).

    ``cache_dir``: the film cache (default: the one the CLI and the app use, so checkpoints are shared).
    """
    store = JobStore(config.state_path, ttl_s=config.result_ttl_h * 3600)
    pool = JobPool(store, config.settings, config.workers, cache_dir=cache_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool.start()
        log.info("emotion service: %d film analyses at once, state in %s", config.workers, config.state_path)
        try:
            yield
        finally:
            await run_in_threadpool(pool.shutdown)

    app = FastAPI(title="emotion analytics", version="1",
                  description="Faces and emotions in photos, and scene-by-scene emotions of films, as a service. "
                              "This interactive page loads Swagger UI from a CDN and needs the internet; "
                              "/reference lists the same API offline.",
                  lifespan=lifespan)
    app.state.pool, app.state.store, app.state.config = pool, store, config

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers or None)

    @app.exception_handler(UploadError)
    async def _upload_error(request: Request, exc: UploadError):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(EmotionError)
    async def _emotion_error(request: Request, exc: EmotionError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    def authorize(request: Request) -> None:
        if config.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), config.api_key.encode()):
            raise ApiError(401, "missing or wrong API key; send the header 'Authorization: Bearer <key>'")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorize)])

    @app.get("/health", summary="the service is up")
    async def health() -> dict:       # on the event loop: never waits for a worker thread
        return {"status": "ok", "workers": config.workers, "queued": pool.queued(),
                "photos_in_progress": photos_busy[0]}

    @app.get("/reference", summary="the API, listed on one page that works offline", include_in_schema=False)
    def reference():
        from fastapi.responses import HTMLResponse

        return HTMLResponse(_reference_html(app.openapi()))

    photos_busy = [0]           # photos being received or analysed (the event loop is the only writer)

    @v1.post("/images", summary="faces and emotions in one photo", openapi_extra=_FILE_FORM)
    async def images(request: Request) -> dict:
        from ..detector import get_detector
        from ..export import to_record
        from ..media import load_image

        if photos_busy[0] >= config.max_photos_at_once:
            raise ApiError(503, f"{photos_busy[0]} photos are being analysed, the most this server takes at once; "
                                "send it again in a moment", retry_after=2)
        photos_busy[0] += 1
        try:
            with tempfile.TemporaryDirectory(prefix="upload-", dir=store.root / "uploads") as tmp:
                upload = await receive_upload(request, tmp, config.max_photo_bytes)
                settings, _ = client_settings(config.settings, _settings_field(upload.fields.get("settings")))
                name = display_name(upload.name, "image")
                with open(upload.path, "rb") as f:
                    head = f.read(16)
                if not _looks_like_image(head):
                    raise ApiError(415, f"{name}: not an image file (JPEG, PNG, WebP, GIF, BMP or TIFF); send a "
                                        "photo")

                def analyse():
                    try:
                        rgb = load_image(upload.path.read_bytes())
                    except EmotionError as exc:  # the message names "image"; the client knows its file by name
                        raise ApiError(400, f"{name}: {str(exc).removeprefix('image: ')}") from None
                    return to_record(name, get_detector(settings).analyze(rgb))

                return await run_in_threadpool(analyse)
        finally:
            photos_busy[0] -= 1

    jobs_arriving = [0]          # film/audience requests admitted whose job is not queued yet

    def admitted(handler):
        """A job route that first takes a place in the queue (counted while its upload arrives), or answers 503."""
        @functools.wraps(handler)
        async def route(request: Request) -> dict:
            waiting = pool.queued() + jobs_arriving[0]
            if waiting >= config.max_queued:
                raise ApiError(503, f"{waiting} jobs are waiting, the most this server queues; send it again later "
                                    "(or ask its operator to raise --max-queued)", retry_after=30)
            jobs_arriving[0] += 1
            try:
                return await handler(request)
            finally:
                jobs_arriving[0] -= 1
        return route

    @v1.post("/films", status_code=202, summary="queue a film analysis", openapi_extra=_FILM_BODY)
    @admitted
    async def films(request: Request) -> dict:
        from ..film.video import probe

        ctype = request.headers.get("content-type", "")
        job_id = new_id()
        if ctype.startswith("application/json"):
            body = await _json_body(request, '{"path": "film.mp4"}')
            if not isinstance(body.get("path"), str):
                raise ApiError(400, "send {\"path\": \"film.mp4\"} naming a film inside the server's media folder")
            source = _media_path(config, body["path"])
            options = _json_settings(body)
            name, uploaded = source.name, False
        else:
            folder = store.new_upload_dir(job_id)
            try:
                upload = await receive_upload(request, folder, config.max_upload_bytes)
                options = _settings_field(upload.fields.get("settings"))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            source, name, uploaded = upload.path, display_name(upload.name, "film"), True
        try:
            client_settings(config.settings, options)  # refused now, not when the job starts
            await run_in_threadpool(probe, source)    # a file that is no video is refused at once
        except EmotionError as exc:
            if uploaded:
                shutil.rmtree(store.upload_dir(job_id), ignore_errors=True)
            raise ApiError(400, str(exc)) from None
        job = pool.submit(Job.new(name, str(source), uploaded, options, job_id=job_id))
        return {"job": job.id}

    @v1.post("/audience", status_code=202, summary="queue an audience analysis: a film and its reactions",
             openapi_extra=_AUDIENCE_BODY)
    @admitted
    async def audience(request: Request) -> dict:
        from ..film.video import probe

        ctype = request.headers.get("content-type", "")
        job_id = new_id()
        if ctype.startswith("application/json"):
            body = await _json_body(request, '{"film": "film.mp4", "reactions": ["row1.mp4"]}')
            reactions = body.get("reactions")
            if (not isinstance(body.get("film"), str) or not isinstance(reactions, list)
                    or not reactions or not all(isinstance(r, str) for r in reactions)):
                raise ApiError(400, "send {\"film\": \"film.mp4\", \"reactions\": [\"row1.mp4\", ...]} naming "
                                    "files inside the server's media folder, at least one reaction")
            film = _media_path(config, body["film"])
            inputs = [(p.name, p) for p in (_media_path(config, r) for r in reactions)]
            options, offsets, uploaded = _json_settings(body), body.get("offsets"), False
        else:
            folder = store.new_upload_dir(job_id)
            try:
                files, fields = await receive_files(request, folder, config.max_upload_bytes,
                                                    {"film": 1, "reaction": None})
                options = _settings_field(fields.get("settings"))
                offsets = _settings_field(fields.get("offsets"), "offsets", '{"row1.mp4": 12.5}')
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            film, uploaded = files["film"][0].path, True
            inputs = [(display_name(u.name, "reaction"), u.path) for u in files["reaction"]]
        try:
            names = [n for n, _ in inputs]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ApiError(400, f"two reactions are named {', '.join(twice)}; give each reaction its own file "
                                    "name (offsets are given by name)")
            offsets = check_offsets(offsets, names)
            audience_settings(config.settings, options)  # refused now, not when the job starts
            lengths = {}
            for label, path in (("", film), *inputs):
                info = await run_in_threadpool(probe, path)   # a file that is no video is refused at once
                lengths[label] = info.duration
            check_offset_range(offsets, lengths.pop(""), lengths)
        except (EmotionError, ApiError) as exc:
            if uploaded:
                shutil.rmtree(store.upload_dir(job_id), ignore_errors=True)
            if isinstance(exc, ApiError):
                raise
            raise ApiError(400, str(exc)) from None
        reactions = [{"name": n, "path": str(p), "offset_s": offsets.get(n)} for n, p in inputs]
        name = display_name(files["film"][0].name, "film") if uploaded else film.name
        job = pool.submit(Job.new(name, str(film), uploaded, options, job_id=job_id, kind="audience",
                                  reactions=reactions))
        return {"job": job.id}

    def _job(job_id: str) -> Job:
        job = store.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id}; finished jobs are kept {config.result_ttl_h:g} hours")
        return job

    @v1.get("/jobs/{job_id}", summary="state, progress and ETA of a job")
    def job_status(job_id: str) -> dict:
        return _job(job_id).to_public()

    @v1.delete("/jobs/{job_id}", summary="cancel a job (its checkpoint is kept)")
    async def job_cancel(job_id: str) -> dict:
        _job(job_id)
        job = await run_in_threadpool(pool.cancel, job_id)
        deadline = time.monotonic() + 10.0
        while job is not None and job.state == "running" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # the pass stops at its next sampled frame and saves its checkpoint
            job = store.get(job_id)
        return _job(job_id).to_public()

    @v1.post("/jobs/{job_id}/resume", status_code=202, summary="queue a cancelled or failed job again")
    def job_resume(job_id: str) -> dict:
        job = _job(job_id)
        if pool.resume(job_id) is None:
            raise ApiError(409, f"job {job_id} is {job.state}; only a cancelled or failed job can be resumed")
        return {"job": job_id}

    @v1.get("/films/{job_id}/{file}", summary="a result file of a done film job",
            responses={200: {"content": {t.split(";")[0]: {} for t in RESULT_FILES.values()}}})
    def film_result(job_id: str, file: str):
        return _result(job_id, file, "film", RESULT_FILES)

    @v1.get("/audience/{job_id}/{file}", summary="a result file of a done audience job",
            responses={200: {"content": {t.split(";")[0]: {} for t in AUDIENCE_FILES.values()}}})
    def audience_result(job_id: str, file: str):
        return _result(job_id, file, "audience", AUDIENCE_FILES)

    def _result(job_id: str, file: str, kind: str, files: dict[str, str]):
        job = _job(job_id)
        if job.kind != kind:
            route = "films" if job.kind == "film" else "audience"
            raise ApiError(404, f"job {job_id} is a {job.kind} job; its results are at /v1/{route}/{job_id}/FILE")
        if file not in files:
            raise ApiError(404, f"no result {file}; results are {', '.join(files)}")
        folder = results_ready(store, job_id)
        if folder is None:
            hint = "wait until it is done" if job.state not in FINISHED else "resume it to get results"
            raise ApiError(409, f"job {job_id} is {job.state}; {hint}")
        stem = Path(job.name).stem or "film"
        return FileResponse(folder / file, media_type=files[file],
                            filename=f"{stem}_{file}",
                            content_disposition_type="inline")

    app.include_router(v1)
    return app
