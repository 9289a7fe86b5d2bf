"""The web server behind `klimainnkjop serve`: gunicorn with several worker processes (settings
KLIMAINNKJOP_WEB_WORKERS × KLIMAINNKJOP_WEB_THREADS), and the proxy headers believed only from
KLIMAINNKJOP_TRUSTED_PROXY. See README "Serving"."""
from __future__ import annotations

import ipaddress

from django.conf import settings
from gunicorn.app.base import BaseApplication


def _trusted(address: str, trusted: list[str]) -> bool:
    if "*" in trusted:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in trusted)


class ForwardedFor:
    """WSGI middleware: a request from a trusted proxy gets as REMOTE_ADDR the client address that the proxy
    appended to X-Forwarded-For (its last entry; the entries before it come from the client and prove nothing).
    Gunicorn sets the scheme from X-Forwarded-Proto for the same addresses (forwarded_allow_ips), but leaves
    REMOTE_ADDR as the proxy's."""

    def __init__(self, app, trusted: list[str]):
        self.app = app
        self.trusted = list(trusted)

    def __call__(self, environ, start_response):
        if self.trusted and _trusted(environ.get("REMOTE_ADDR", ""), self.trusted):
            client = environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
            try:
                environ["REMOTE_ADDR"] = str(ipaddress.ip_address(client))
            except ValueError:
                pass  # no usable address from the proxy: keep the proxy's
        return self.app(environ, start_response)


def options(*, host: str, port: int) -> dict:
    """Gunicorn's settings for `serve`, from Django's settings (which read the environment)."""
    return {
        "bind": [f"{host}:{port}"],
        "workers": settings.KLIMAINNKJOP_WEB_WORKERS,
        # one request at a time per process by default (gunicorn's sync worker): the kernel hands each new connection
        # to a free process. With threads (gthread), a kept-alive connection stays with the process that accepted
        # it, and under load some processes queue while others idle (measured: p95 14 s against p50 1.7 s).
        "worker_class": "sync" if settings.KLIMAINNKJOP_WEB_THREADS <= 1 else "gthread",
        "threads": settings.KLIMAINNKJOP_WEB_THREADS,
        "timeout": 120,
        "graceful_timeout": 30,
        # only X-Forwarded-Proto decides the scheme, and only from the trusted proxies (an empty list: nobody)
        "forwarded_allow_ips": ",".join(settings.KLIMAINNKJOP_TRUSTED_PROXY),
        "secure_scheme_headers": {"X-FORWARDED-PROTO": "https"},
        "proc_name": "klimainnkjop",
        "errorlog": "-",
        "loglevel": "warning",
        # gunicorn's control socket is one path per user ($HOME/.gunicorn): two servers would fight over it
        "control_socket_disable": True,
        # the app (Django, every view and what they import: ibis, DuckDB, pandas…) is loaded once in the master and
        # the workers are forked from it: without this each worker paid about 3 s of CPU for its imports on its first
        # request, which under load was a large part of the work
        "preload_app": True,
    }


class Server(BaseApplication):
    """Gunicorn run from our own command: the options above, and the Django app loaded in each worker."""

    def __init__(self, opts: dict):
        self.opts = opts
        super().__init__()

    def load_config(self):
        for key, value in self.opts.items():
            self.cfg.set(key, value)

    def load(self):
        from django.db import connections
        from django.urls import get_resolver

        from klimainnkjop.wsgi import application

        get_resolver().url_patterns  # noqa: B018 - imports the URL configuration and every view before the fork
        connections.close_all()  # the workers are forked from this process: none may share its database connection
        return ForwardedFor(application, settings.KLIMAINNKJOP_TRUSTED_PROXY)


def serve(*, host: str, port: int) -> None:
    """Runs until stopped (SIGTERM or SIGINT: gunicorn's master stops its workers, then raises SystemExit)."""
    from django.db import connections

    connections.close_all()  # the workers are forked from this process: none may share its database connection
    Server(options(host=host, port=port)).run()
