"""The playground's web server: the page's files and a small JSON API, on 127.0.0.1.

Standard library only (``http.server.ThreadingHTTPServer``): a teaching page for
one machine needs no framework, and nothing to install is nothing to break.

The API (every answer is JSON; a refusal is ``{"error": message}`` with a 4xx code):

    GET  /api/options                 the settings (ranges, choices), presets, limits
    POST /api/session                 {settings} -> a new run (one per tab): {"id", view}
    GET  /api/session/ID/view         the run's views (views.snapshot); also a heartbeat
    POST /api/session/ID/settings     {settings} -> the run rebuilt with them (a reset)
    POST /api/session/ID/action       {"action": play|pause|step|d_step|g_step|reset|speed,
                                       "speed": steps a second}
    POST /api/session/ID/heartbeat    the page is still open
    POST /api/session/ID/close        the page is closing: the run stops now

Safety. It listens on the loopback address only. A request whose Host is not
this server's own (127.0.0.1:PORT or localhost:PORT), or whose Origin, when
sent, is not http:// one of those, is refused with 403: a web page elsewhere
cannot reach it by DNS rebinding, nor post to it from another site. Every
setting is checked here (``session.check_settings``), bodies are bounded in size,
and an error is a JSON message the page shows, never a traceback.
"""
import json
import pathlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import session as sessions_mod
from . import views

STATIC = pathlib.Path(__file__).with_name("static")
FILES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/index.html": ("index.html", "text/html; charset=utf-8"),
         "/playground.js": ("playground.js", "text/javascript; charset=utf-8"),
         "/playground.css": ("playground.css", "text/css; charset=utf-8")}
MAX_BODY = 256 * 1024          # bytes: 2,000 drawn points take about 40 KB
HOST = "127.0.0.1"
ROUTE = re.compile(r"^/api/session/([A-Za-z0-9_-]{1,64})/(view|settings|action|heartbeat|close)$")


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Handler(BaseHTTPRequestHandler):
    server_version = "minigan-playground"
    sys_version = ""

    def log_message(self, fmt, *args):        # quiet: the terminal shows the address only
        if self.server.verbose:
            super().log_message(fmt, *args)

    # ------------------------------------------------------------ checks
    def _check_origin(self):
        """403 unless Host is this server's own, and Origin (if sent) too."""
        port = self.server.server_address[1]
        own = {f"127.0.0.1:{port}", f"localhost:{port}"}
        host = self.headers.get("Host", "")
        if host.lower() not in own:
            raise Refused(403, f"refused: Host {host!r} is not this server "
                               f"(http://127.0.0.1:{port}/)")
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() not in {"http://" + h for h in own}:
            raise Refused(403, f"refused: requests from {origin!r} are not accepted; open "
                               f"http://127.0.0.1:{port}/ itself")

    def _body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise Refused(400, "bad Content-Length") from None
        if n > MAX_BODY:
            raise Refused(413, f"request too large: {n} bytes, at most {MAX_BODY}")
        if n < 0:
            raise Refused(400, "bad Content-Length")
        raw = self.rfile.read(n) if n else b"{}"
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise Refused(400, "the request body must be JSON") from None
        if not isinstance(body, dict):
            raise Refused(400, "the request body must be a JSON object")
        return body

    # ------------------------------------------------------------ replies
    def _send(self, code, payload, ctype="application/json; charset=utf-8"):
        data = payload if isinstance(payload, bytes) else json.dumps(
            payload, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self, method):
        try:
            self._check_origin()
            path = self.path.split("?", 1)[0]
            if method == "GET" and path in FILES:
                name, ctype = FILES[path]
                return self._send(200, (STATIC / name).read_bytes(), ctype)
            if method == "GET" and path == "/api/options":
                return self._send(200, options())
            if method == "POST" and path == "/api/session":
                body = self._body()
                run = self.server.sessions.create(body.get("settings", {}))
                return self._send(201, views.snapshot(run))
            m = ROUTE.match(path)
            if m is None:
                raise Refused(404, f"no such page or API: {method} {path}"[:200])
            sid, what = m.groups()
            want = "GET" if what == "view" else "POST"
            if method != want:
                raise Refused(405, f"{path} takes {want}")
            body = self._body() if method == "POST" else {}
            run = self.server.sessions.get(sid)
            if run is None:
                if what == "close":
                    return self._send(200, {"closed": False})
                raise Refused(404, "this run is gone (the page was closed, or the server "
                                   "restarted); reload the page to start a new one")
            run.heartbeat()
            if what == "close":
                self.server.sessions.remove(sid)
                return self._send(200, {"closed": True})
            if what == "heartbeat":
                return self._send(200, {"ok": True})
            if what == "settings":
                run.configure(body.get("settings", {}))
            elif what == "action":
                speed = body.get("speed")
                run.act(body.get("action"), speed)
            return self._send(200, views.snapshot(run))
        except Refused as e:
            self._send(e.code, {"error": str(e)})
        except sessions_mod.SettingsError as e:
            self._send(400, {"error": str(e)})
        except sessions_mod.LimitError as e:
            self._send(429, {"error": str(e)})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:                   # a bug: a message, not a traceback, to the page
            self._send(500, {"error": f"internal error: {type(e).__name__}: {e}"[:500]})

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")


def options():
    """The settings the page may set (kinds, ranges, choices), the presets and limits."""
    spec = {}
    for name, (kind, default, *rule) in sessions_mod.SPEC.items():
        spec[name] = ({"kind": kind, "default": default, "choices": list(rule[0])}
                      if kind == "choice" else
                      {"kind": kind, "default": default, "min": rule[0], "max": rule[1]})
    return {"settings": spec, "presets": sessions_mod.presets(),
            "speeds": list(sessions_mod.SPEEDS), "max_points": sessions_mod.MAX_POINTS,
            "draw_box": sessions_mod.DRAW_BOX, "max_sessions": sessions_mod.MAX_SESSIONS,
            "heartbeat_timeout": sessions_mod.HEARTBEAT_TIMEOUT, "where": views.WHERE}


class PlaygroundServer(ThreadingHTTPServer):
    daemon_threads = True           # a request thread never keeps the process alive
    allow_reuse_address = True

    def __init__(self, port=0, verbose=False, **session_options):
        super().__init__((HOST, port), Handler)
        self.verbose = verbose
        self.sessions = sessions_mod.Sessions(**session_options)

    @property
    def url(self):
        return f"http://{HOST}:{self.server_address[1]}/"

    def close(self):
        """Stop serving, stop every run (their threads joined), close the socket."""
        self.sessions.close_all()
        self.server_close()


def start(port=0, **options):
    """A server on 127.0.0.1:`port` (0: a free port) serving in a daemon thread;
    returns it (``.url``, ``.shutdown()`` then ``.close()``). For tests and scripts."""
    srv = PlaygroundServer(port, **options)
    threading.Thread(target=srv.serve_forever, name="playground-server", daemon=True).start()
    return srv


def serve(port=0, open_browser=True, out=print):
    """Serve until Ctrl-C (``python -m minigan playground``); returns 0 after a clean stop."""
    srv = PlaygroundServer(port)
    out(f"minigan playground: {srv.url}  (Ctrl-C stops it)")
    if open_browser:
        import webbrowser
        try:
            if not webbrowser.open(srv.url):
                out("no browser found here: open the address above in one")
        except webbrowser.Error:
            out("no browser found here: open the address above in one")
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        out("\nstopping: every run is stopped and the port closed")
    finally:
        srv.close()
    return 0
