"""BrokerLink's extensions to moto 5.2.1, installed into the moto server's own process.

`install(lambda_endpoint, moto_endpoint)` imports every public module of this package and
calls its `install()`: drop in a module (e.g. `fidelity_route53.py`) with an `install()`
and it is picked up without editing this file. Modules read the endpoints from `ENDPOINTS`
and their settings from `CONFIG` (changed at run time with POST /_brokerlink/config), and
may serve test-only routes under `/_brokerlink/` with `@route(...)`; `wsgi(app)` wraps
moto's WSGI app so those routes are reachable.
"""

import importlib
import json
import pkgutil

ENDPOINTS = {"lambda": None, "moto": None}

# Seconds. A module adds its own settings with `CONFIG.setdefault(name, default)`.
CONFIG = {}
NULLABLE = set()

_routes = {}
_installed = False


def install(lambda_endpoint, moto_endpoint=None):
    """`moto_endpoint`: this moto server (default: 127.0.0.1 on moto's MOTO_PORT setting)."""
    global _installed
    if not moto_endpoint:
        from moto.settings import moto_server_port

        moto_endpoint = f"http://127.0.0.1:{moto_server_port()}"
    ENDPOINTS["lambda"] = lambda_endpoint.rstrip("/")
    ENDPOINTS["moto"] = moto_endpoint.rstrip("/")
    if _installed:
        return
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if hasattr(module, "install"):
            module.install()
    _installed = True


def route(method, path):
    """Registers `handler(body: dict) -> dict` (200) for METHOD /_brokerlink/<path>; it raises ApiError otherwise."""

    def register(handler):
        _routes[(method, "/_brokerlink/" + path.strip("/"))] = handler
        return handler

    return register


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


@route("GET", "config")
def get_config(body):
    return dict(CONFIG)


@route("POST", "config")
def set_config(body):
    for key, value in body.items():
        if key not in CONFIG:
            raise ApiError(400, f"unknown setting {key}; known: {sorted(CONFIG)}")
        if value is None and key in NULLABLE:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ApiError(400, f"{key} must be a number of seconds >= 0" + (" or null" if key in NULLABLE else ""))
    CONFIG.update({key: value if value is None else float(value) for key, value in body.items()})
    return dict(CONFIG)


def wsgi(app):
    def dispatch(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_brokerlink/"):
            return app(environ, start_response)
        handler = _routes.get((environ["REQUEST_METHOD"], path.rstrip("/")))
        try:
            if handler is None:
                raise ApiError(404, f"no route {environ['REQUEST_METHOD']} {path}")
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as e:
                raise ApiError(400, f"body is not JSON: {e}") from e
            status, result = 200, handler(body)
        except ApiError as e:
            status, result = e.status, {"message": str(e)}
        payload = json.dumps(result).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return dispatch
