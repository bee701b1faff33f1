"""The playground's server refuses what it must, over real HTTP:
a server on a free port of 127.0.0.1, asked with http.client.

Each refusal is a JSON {"error": message} with a 4xx code and never a traceback:
another Host or Origin (DNS rebinding, other sites), every setting out of range,
drawn data too large or out of bounds, a body too large, too many runs; and the
runs stop when their page stops sending heartbeats, and when Ctrl-C stops the
server.
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from minigan.playground import server, session


@pytest.fixture
def srv():
    s = server.start(0, limit=2)
    yield s
    s.shutdown()
    s.close()


def ask(srv, method, path, body=None, headers=None, raw=None):
    port = srv.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    h = {"Host": f"127.0.0.1:{port}"}
    h.update(headers or {})
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    if data is not None:
        h.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    payload = json.loads(text) if r.getheader("Content-Type", "").startswith(
        "application/json") else text
    return r.status, payload


def refused(status, payload, code, words):
    assert status == code, (status, payload)
    assert isinstance(payload, dict) and words in payload["error"], payload
    assert "Traceback" not in payload["error"]


def new_run(srv, settings=None):
    status, view = ask(srv, "POST", "/api/session", {"settings": settings or {}})
    assert status == 201, view
    return view["id"]


# ------------------------------------------------------------------ the address
def test_listens_on_loopback_only_and_serves_the_page(srv):
    assert srv.server_address[0] == "127.0.0.1"
    status, page = ask(srv, "GET", "/")
    assert status == 200 and "<canvas id=\"plane\"" in page and "http" not in \
        page.replace("http-equiv", "")        # no address outside: no CDN, no network
    for name in ("/playground.js", "/playground.css"):
        status, text = ask(srv, "GET", name)
        assert status == 200 and "http://" not in text and "https://" not in text
    status, opts = ask(srv, "GET", "/api/options")
    assert status == 200 and {"mog-gan", "mog-best"} <= set(opts["presets"])


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1",
                                  "127.0.0.1", "localhost.evil.example:{port}", ""])
def test_another_host_is_refused(srv, host):
    port = srv.server_address[1]
    for method, path, body in (("GET", "/", None), ("GET", "/api/options", None),
                               ("POST", "/api/session", {"settings": {}})):
        status, payload = ask(srv, method, path, body, {"Host": host.format(port=port)})
        refused(status, payload, 403, "refused: Host")
    assert not srv.sessions.runs


def test_own_hosts_are_served(srv):
    port = srv.server_address[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert ask(srv, "GET", "/api/options", headers={"Host": host})[0] == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "https://127.0.0.1:{port}",
                                    "http://127.0.0.1:1", "http://localhost.evil.example"])
def test_another_origin_is_refused(srv, origin):
    port = srv.server_address[1]
    sid = new_run(srv)
    o = {"Origin": origin.format(port=port)}
    refused(*ask(srv, "POST", "/api/session", {"settings": {}}, o), 403, "refused: requests from")
    refused(*ask(srv, "POST", f"/api/session/{sid}/action", {"action": "play"}, o), 403,
            "refused")
    refused(*ask(srv, "GET", f"/api/session/{sid}/view", None, o), 403, "refused")
    assert not srv.sessions.get(sid).playing
    assert ask(srv, "POST", f"/api/session/{sid}/action", {"action": "pause"},
               {"Origin": f"http://127.0.0.1:{port}"})[0] == 200


# ------------------------------------------------------------------ the settings
BAD = [
    ({"g_width": 0}, "g_width must be between 1 and 256"),
    ({"g_width": 257}, "g_width must be between 1 and 256"),
    ({"d_width": 2.5}, "d_width must be a whole number"),
    ({"g_depth": 5}, "g_depth must be between 1 and 4"),
    ({"d_depth": "2"}, "d_depth must be a number"),
    ({"loss": "wasserstein-gp"}, "loss must be one of"),
    ({"gp": -1}, "gp must be between 0 and 100"),
    ({"r1": 1e9}, "r1 must be between 0 and 100"),
    ({"gp": 1, "r1": 1}, "choose one penalty"),
    ({"g_optimizer": "rmsprop"}, "g_optimizer must be one of adam, sgd"),
    ({"d_optimizer": None}, "d_optimizer must be one of"),
    ({"g_lr": 0}, "g_lr must be between"),
    ({"d_lr": 10}, "d_lr must be between"),
    ({"beta1": 1.0}, "beta1 must be between"),
    ({"beta2": True}, "beta2 must be a number"),
    ({"decay_steps": -5}, "decay_steps must be between"),
    ({"d_steps": 0}, "d_steps must be between 1 and 10"),
    ({"pack": 5}, "pack must be between 1 and 4"),
    ({"pack": 3, "batch_size": 64}, "must be divisible by pack"),
    ({"unroll": 11}, "unroll must be between 0 and 10"),
    ({"unroll": 2, "d_optimizer": "sgd"}, "unroll repeats D's Adam steps"),
    ({"label_smoothing": 0.6}, "label_smoothing must be between"),
    ({"label_smoothing": 0.1, "loss": "wasserstein"}, "label_smoothing applies to"),
    ({"batch_size": 1}, "batch_size must be between 4 and 512"),
    ({"batch_size": 100000}, "batch_size must be between"),
    ({"scale": 0}, "scale must be between"),
    ({"seed": -1}, "seed must be between"),
    ({"seed": 2 ** 40}, "seed must be between"),
    ({"data": "moons"}, "data must be one of ring, grid, drawn"),
    ({"width": 3}, "unknown setting 'width'"),
    ({"data": "drawn"}, "needs points"),
    ({"data": "drawn", "points": [[0, 0]] * 2001}, "at most 2000 drawn points"),
    ({"data": "drawn", "points": [[0, 2.5]]}, "each drawn point must be [x, y]"),
    ({"data": "drawn", "points": [[0, "a"]]}, "each drawn point"),
    ({"data": "drawn", "points": [[0, 0, 0]]}, "each drawn point"),
    ({"data": "drawn", "points": "everywhere"}, "needs points"),
]


@pytest.mark.parametrize("settings, words", BAD, ids=[str(b[0])[:40] for b in BAD])
def test_every_setting_is_checked_on_the_server(srv, settings, words):
    refused(*ask(srv, "POST", "/api/session", {"settings": settings}), 400, words)
    sid = new_run(srv)
    refused(*ask(srv, "POST", f"/api/session/{sid}/settings", {"settings": settings}), 400,
            words)
    # the run it had is kept, untouched
    status, view = ask(srv, "GET", f"/api/session/{sid}/view")
    assert status == 200 and view["settings"]["g_width"] == session.DEFAULTS["g_width"]
    srv.sessions.remove(sid)


def test_settings_in_range_are_taken(srv):
    pts = [[0.5 * (i % 7) - 1.5, 0.001 * i - 1.0] for i in range(session.MAX_POINTS)]
    sid = new_run(srv, {"data": "drawn", "points": pts, "loss": "hinge", "r1": 1.0,
                        "pack": 2, "d_steps": 2, "g_optimizer": "sgd", "g_lr": 0.01})
    status, view = ask(srv, "POST", f"/api/session/{sid}/action", {"action": "step"})
    assert status == 200 and view["step"] == 1 and view["d_updates"] == 2
    assert len(view["settings"]["points"]) == session.MAX_POINTS


def test_nan_and_bad_bodies_are_refused(srv):
    refused(*ask(srv, "POST", "/api/session", raw=b'{"settings": {"g_lr": NaN}}'), 400,
            "g_lr must be a number")
    refused(*ask(srv, "POST", "/api/session", raw=b"{not json"), 400, "must be JSON")
    refused(*ask(srv, "POST", "/api/session", raw=b"[1, 2]"), 400, "JSON object")
    refused(*ask(srv, "POST", "/api/session", {"settings": [1]}), 400, "JSON object")
    big = b'{"settings": {"data": "drawn", "points": [' + b"[0.1, 0.1]," * 40_000 + b"[0,0]]}}"
    refused(*ask(srv, "POST", "/api/session", raw=big), 413, "request too large")


def test_actions_paths_and_methods_are_checked(srv):
    sid = new_run(srv)
    refused(*ask(srv, "POST", f"/api/session/{sid}/action", {"action": "explode"}), 400,
            "unknown action")
    refused(*ask(srv, "POST", f"/api/session/{sid}/action", {"action": "play", "speed": 7}),
            400, "speed must be one of")
    refused(*ask(srv, "GET", "/api/session/nosuchrun/view"), 404, "this run is gone")
    refused(*ask(srv, "GET", "/etc/passwd"), 404, "no such page")
    refused(*ask(srv, "GET", "/../minigan/playground/server.py"), 404, "no such page")
    refused(*ask(srv, "GET", f"/api/session/{sid}/action"), 405, "takes POST")
    refused(*ask(srv, "DELETE", "/"), 404, "no such page")


def test_one_d_step_moves_d_alone_and_play_trains(srv):
    sid = new_run(srv)
    _, v = ask(srv, "POST", f"/api/session/{sid}/action", {"action": "d_step"})
    assert (v["step"], v["d_updates"], v["g_updates"]) == (0, 1, 0)
    _, v = ask(srv, "POST", f"/api/session/{sid}/action", {"action": "g_step"})
    assert (v["step"], v["d_updates"], v["g_updates"]) == (0, 1, 1)
    ask(srv, "POST", f"/api/session/{sid}/action", {"action": "play", "speed": 0})
    time.sleep(0.5)
    _, v = ask(srv, "GET", f"/api/session/{sid}/view")
    assert v["playing"] and v["step"] > 5 and v["d_updates"] == v["step"] + 1
    _, v = ask(srv, "POST", f"/api/session/{sid}/action", {"action": "reset"})
    assert (v["step"], v["d_updates"], v["playing"]) == (0, 0, False)


# ------------------------------------------------------------------ lifetime
def test_runs_are_limited(srv):
    a, b = new_run(srv), new_run(srv)
    refused(*ask(srv, "POST", "/api/session", {"settings": {}}), 429, "at most 2 runs")
    assert ask(srv, "POST", f"/api/session/{a}/close", {})[1] == {"closed": True}
    c = new_run(srv)                               # the closed tab's place is free again
    assert {b, c} == set(srv.sessions.runs)


def test_training_stops_within_2_seconds_of_the_page_going_silent(srv):
    sid = new_run(srv)
    ask(srv, "POST", f"/api/session/{sid}/action", {"action": "play"})
    run = srv.sessions.get(sid)
    time.sleep(0.3)
    assert run.playing and run.trainer.global_step > 0
    silent = time.monotonic()                      # no view, no heartbeat from here on
    while run.playing and time.monotonic() - silent < 5:
        time.sleep(0.02)
    assert time.monotonic() - silent < 2.0
    stopped_at = run.trainer.global_step
    time.sleep(0.5)
    assert run.trainer.global_step == stopped_at   # no step after the pause
    assert "no heartbeat" in run.error


def test_closing_the_page_stops_its_run_at_once(srv):
    sid = new_run(srv)
    ask(srv, "POST", f"/api/session/{sid}/action", {"action": "play"})
    run = srv.sessions.get(sid)
    time.sleep(0.2)
    # what navigator.sendBeacon sends when the tab closes (text/plain)
    ask(srv, "POST", f"/api/session/{sid}/close", raw=b"{}",
        headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert run.closed and not run.thread.is_alive() and srv.sessions.get(sid) is None


def test_ctrl_c_stops_the_server_cleanly(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, "-m", "minigan", "playground", "--no-browser"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = p.stdout.readline()
        assert line.startswith("minigan playground: http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("POST", "/api/session", body=b'{"settings": {}}')
        sid = json.loads(conn.getresponse().read())["id"]
        conn.request("POST", f"/api/session/{sid}/action", body=b'{"action": "play"}')
        assert conn.getresponse().status == 200
        conn.close()
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0 and "stopping" in out and "Traceback" not in out
