"""How fast the playground trains while the page redraws: the target is at least 100
steps a second while the page redraws at least 10 times a second.

A playground server on 127.0.0.1, one run of the given settings (the playground's
default model unless --preset), played as fast as it goes, and a client asking
for the views (GET /api/session/ID/view) the way the page does: a request every
80 ms (from the start of the last one), or at once when an answer took longer. It reports training steps a second and views served a
second over --seconds, and the same steps a second with nothing watching.

The client runs in a separate process (as a browser would), reading each answer
whole. The BLAS thread count is the environment's (OPENBLAS_NUM_THREADS), as
the command line runs it.

    python benchmarks/playground_speed.py                   # default model, 10 s each
    python benchmarks/playground_speed.py --preset mog-gan  # the mog lesson's vanilla GAN
"""
import argparse
import http.client
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

TARGET_STEPS, TARGET_VIEWS = 100.0, 10.0


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def watcher(port, sid, seconds, period, out):
    """The page's loop: a view every `period` seconds, or at once after a late answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, sizes = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        conn.request("GET", f"/api/session/{sid}/view")
        body = conn.getresponse().read()
        times.append(time.perf_counter() - t)
        sizes.append(len(body))
        time.sleep(max(0.0, period - (time.perf_counter() - t)))
    out.put((times, sizes))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default=None, help="mog-gan or mog-best (default: the "
                                                   "playground's default model)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--period", type=float, default=0.08,
                    help="s from one view request to the next (the page's 80 ms)")
    args = ap.parse_args()

    from minigan.playground import server, session
    settings = session.presets()[args.preset]["settings"] if args.preset else {}
    srv = server.start(0)
    port = srv.server_address[1]
    run = srv.sessions.create(settings)
    s = run.settings
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}; load average "
          f"{os.getloadavg()[0]:.2f}; Python {platform.python_version()}")
    print(f"model: {args.preset or 'playground default'}: G {s['g_width']}x{s['g_depth']}, "
          f"D {s['d_width']}x{s['d_depth']}, batch {s['batch_size']}, pack {s['pack']}, "
          f"loss {s['loss']}, data {s['data']}")

    def steps_per_second(watch):
        run.heartbeat()
        run.act("play", 0)
        q = multiprocessing.get_context("spawn").Queue()
        proc = None
        if watch:
            proc = multiprocessing.get_context("spawn").Process(
                target=watcher, args=(port, run.id, args.seconds, args.period, q))
            proc.start()
            time.sleep(1.0)                          # the client is up and asking
        step0, t0 = run.trainer.global_step, time.perf_counter()
        end = time.monotonic() + args.seconds - (1.0 if watch else 0.0)
        while time.monotonic() < end:
            run.heartbeat()                          # the watcher's views do it too
            time.sleep(0.2)
        rate = (run.trainer.global_step - step0) / (time.perf_counter() - t0)
        run.act("pause")
        views = None
        if watch:
            times, sizes = q.get(timeout=60)
            proc.join()
            views = (len(times) / args.seconds, statistics.median(times) * 1e3,
                     statistics.median(sizes) / 1e3)
        return rate, views

    alone, _ = steps_per_second(False)
    watched, (vps, latency, size) = steps_per_second(True)
    srv.shutdown()
    srv.close()
    ok = watched >= TARGET_STEPS and vps >= TARGET_VIEWS
    print(f"training alone:        {alone:7.1f} steps/s")
    print(f"training while viewed: {watched:7.1f} steps/s, {vps:5.1f} views/s served "
          f"(median answer {latency:.1f} ms, {size:.0f} kB)")
    print(f"target: >= {TARGET_STEPS:.0f} steps/s while >= {TARGET_VIEWS:.0f} views/s: "
          f"{'met' if ok else 'NOT met'}")
    print(json.dumps({"steps_per_s_alone": round(alone, 1), "steps_per_s_viewed": round(watched, 1),
                      "views_per_s": round(vps, 1), "view_ms_median": round(latency, 1)}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
