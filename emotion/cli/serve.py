"""``python -m emotion serve``: the REST API (FastAPI + uvicorn), docs at ``/docs``.

Listens on 127.0.0.1:8000 by default. With ``$EMOTION_API_KEY`` set, every
``/v1`` request needs ``Authorization: Bearer <key>``; without a key the
service refuses to listen beyond this machine unless ``--allow-remote`` says
so (and then warns). Film jobs, uploads and results live in
``<emotion cache>/service`` (``--state-dir``) and survive a restart.
"""

from __future__ import annotations

import argparse
import sys

from .options import add_model_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="film analyses at once; more jobs wait in the queue (default: one per core)")
    parser.add_argument("--max-upload-mb", type=float, default=2000.0, metavar="MB",
                        help="largest upload accepted, in MB (default 2000)")
    parser.add_argument("--max-photo-mb", type=float, default=50.0, metavar="MB",
                        help="largest photo /v1/images accepts, in MB (default 50, as the Image page)")
    parser.add_argument("--max-queued", type=int, default=16, metavar="N",
                        help="film and audience jobs that may wait; past it new jobs get 503 with Retry-After "
                             "(default 16)")
    parser.add_argument("--max-photos-at-once", type=int, default=24, metavar="N",
                        help="photos analysed at the same time; past it a photo gets 503 with Retry-After "
                             "(default 24)")
    parser.add_argument("--result-ttl-h", type=float, default=168.0, metavar="H",
                        help="hours a finished job and its results are kept (default 168, a week)")
    parser.add_argument("--state-dir", default=None, metavar="DIR",
                        help="job records, uploads and results (default <emotion cache>/service)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="listen on a non-local address without an API key (anyone who can reach it may use it)")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    from ..errors import EmotionError
    from ..service.config import ServiceConfig
    from ..settings import Settings

    try:
        import uvicorn

        from ..service.app import create_app
    except ImportError as exc:
        raise EmotionError(f"the service needs FastAPI, uvicorn and python-multipart ({exc.name} is missing); "
                           "install them with: pip install -r requirements.txt") from None
    kw = {"workers": args.workers} if args.workers is not None else {}
    config = ServiceConfig.from_env(host=args.host, port=args.port, settings=Settings.from_args(args),
                                    max_upload_mb=args.max_upload_mb, max_photo_mb=args.max_photo_mb,
                                    max_queued=args.max_queued, max_photos_at_once=args.max_photos_at_once,
                                    result_ttl_h=args.result_ttl_h,
                                    state_dir=args.state_dir, allow_remote=args.allow_remote, **kw)
    if not config.local_only and config.api_key is None:
        if not config.allow_remote:
            print(f"error: refusing to listen on {config.host} without an API key: anyone who can reach this "
                  "machine could use it. Set EMOTION_API_KEY, or pass --allow-remote if the network is yours.",
                  file=sys.stderr)
            return 2
        print(f"warning: listening on {config.host} without an API key: anyone who can reach this machine can "
              "use the service; set EMOTION_API_KEY to require one", file=sys.stderr)
    app = create_app(config)           # refuses a state folder it cannot write, in one sentence
    if not args.quiet:
        auth = "API key required" if config.api_key else "no API key"
        print(f"emotion service on http://{config.host}:{config.port} (docs at /docs, offline at /reference; "
              f"{auth}; {config.workers} film analyses at once, {config.max_queued} more may wait)",
              file=sys.stderr)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning" if args.quiet else "info",
                timeout_graceful_shutdown=30)
    return 0
