"""Load benchmark: many signed-in clients on the region and organisation pages of the demo region, over HTTP on
loopback, against the real server, one configuration after the other in the same run.

    .venv/bin/python benchmarks/load.py                        # demo region, 50 clients, 30 s per configuration
    .venv/bin/python benchmarks/load.py --tmp /tmp/lb --keep   # keep the demo folder; a second run reuses it
    .venv/bin/python benchmarks/load.py --configs waitress,gunicorn:5:1

Configurations (--configs, comma-separated):
    waitress              the server before issue 19: waitress, one process, 8 threads, per-process memory cache
    gunicorn:W:T          `klimainnkjop serve` with KLIMAINNKJOP_WEB_WORKERS=W and KLIMAINNKJOP_WEB_THREADS=T
                          (the file cache in the data directory)
    gunicorn:W:T:redis    the same with KLIMAINNKJOP_REDIS_URL (--redis-url)

Per configuration: start the server, sign in every client (each its own session), show every page once (so that
all are measured as they are once shown after a compute run), time each page alone from one client (the
single-request time: the baseline of the same run), then let every client request pages chosen at random until
--seconds have passed. Prints a table and writes benchmarks/out/load.json. See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# the old configuration, as `klimainnkjop serve` ran it before issue 19 (LocMemCache was Django's default then)
WAITRESS = """
import sys
import klimainnkjop.settings as s
s.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
from waitress import serve
from klimainnkjop.wsgi import application
serve(application, host="127.0.0.1", port=int(sys.argv[1]), threads=8)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "klimainnkjop.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def start_server(config: str, env: dict, port: int) -> subprocess.Popen:
    parts = config.split(":")
    if parts[0] == "waitress":
        command = [sys.executable, "-c", WAITRESS, str(port)]
    elif parts[0] == "gunicorn" and len(parts) in (3, 4):
        env = {**env, "KLIMAINNKJOP_WEB_WORKERS": parts[1], "KLIMAINNKJOP_WEB_THREADS": parts[2]}
        if len(parts) == 4:
            env["KLIMAINNKJOP_REDIS_URL"] = env["BENCH_REDIS_URL"]
        command = [sys.executable, "-m", "klimainnkjop.cli", "serve", "--port", str(port), "--no-worker"]
    else:
        raise SystemExit(f"unknown configuration {config!r}: waitress, gunicorn:W:T or gunicorn:W:T:redis")
    # a session of its own: where the kernel shares the CPU between sessions (autogroup, on by default), the server
    # gets one share and this client another, whatever the number of server processes
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/logg-inn/", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"{config}: the server did not start: {server.communicate()[1].decode()[-2000:]}")
        time.sleep(0.3)


def sign_in(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    form = client.get("/logg-inn/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    page = client.post("/logg-inn/", data={"csrfmiddlewaretoken": token, "username": username, "password": password},
                       follow_redirects=True)
    if "Regionoversikt" not in page.text:
        raise SystemExit(f"sign-in as {username} failed ({page.status_code} {page.url})")
    return client


def measure(config: str, env: dict, args, urls: list[str], username: str, password: str) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(config, env, port)
    try:
        clients = [sign_in(base, username, password) for _ in range(args.clients)]
        for url in urls:  # every page shown once: the measured views are views of a page shown before
            assert clients[0].get(url).status_code == 200, url
        single = []
        for _ in range(args.single_reps):
            for url in urls:
                start = time.perf_counter()
                response = clients[0].get(url)
                single.append(time.perf_counter() - start)
                assert response.status_code == 200, (url, response.status_code)

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        go = threading.Event()
        deadline = [0.0]

        def run(n: int, client: httpx.Client) -> None:
            rng = random.Random(n)
            mine, bad = [], []
            go.wait()
            while time.monotonic() < deadline[0]:
                url = rng.choice(urls)
                start = time.perf_counter()
                try:
                    status = client.get(url).status_code
                except httpx.HTTPError as exc:
                    bad.append(f"{url}: {type(exc).__name__}")
                    continue
                mine.append(time.perf_counter() - start)
                if status != 200:
                    bad.append(f"{url}: {status}")
            with lock:
                latencies.extend(mine)
                errors.extend(bad)

        threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(clients)]
        for t in threads:
            t.start()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        deadline[0] = started + args.seconds
        go.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        for c in clients:
            c.close()
    finally:
        server.terminate()
        try:
            server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    row = {
        "config": config, "requests": len(latencies), "seconds": elapsed, "throughput": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95), "errors": len(errors),
        "error_examples": sorted(set(errors))[:5], "single_p50": statistics.median(single),
        "single_p95": percentile(single, 0.95), "client_cpu_share": client_cpu / elapsed,
    }
    print(f"  -> {config}: {row['throughput']:.1f} req/s, p50 {row['p50'] * 1000:.0f} ms, p95 {row['p95'] * 1000:.0f} ms, "
          f"{row['errors']} errors; one client alone p50 {row['single_p50'] * 1000:.0f} ms; load generator "
          f"{row['client_cpu_share']:.2f} cores", flush=True)
    return row


def describe(config: str) -> str:
    parts = config.split(":")
    if parts[0] == "waitress":
        return "waitress (the server before issue 19), 1 process × 8 threads, memory cache per process"
    return (f"serve: gunicorn, {parts[1]} processes × {parts[2]} threads, "
            f"{'Redis' if len(parts) == 4 else 'file'} cache")


def table(rows: list[dict], baseline: dict | None) -> str:
    header = ["configuration", "one client alone p50 (ms)", "req/s", "p50 (ms)", "p95 (ms)", "errors",
              "req/s vs waitress"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for r in rows:
        ratio = f"{r['throughput'] / baseline['throughput']:.1f}x" if baseline else "-"
        lines.append(f"| {describe(r['config'])} | {r['single_p50'] * 1000:.0f} | {r['throughput']:.1f} | "
                     f"{r['p50'] * 1000:.0f} | {r['p95'] * 1000:.0f} | {r['errors']} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="load per configuration (default 30)")
    parser.add_argument("--single-reps", type=int, default=5, help="rounds of single requests over every page")
    parser.add_argument("--configs", default="waitress,gunicorn:5:1,gunicorn:5:1:redis,waitress",
                        help="the first and last waitress bracket the run: how much the machine's load drifted")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--demo-scale", type=float, default=1.0)
    parser.add_argument("--tmp", default=None, help="work folder (default: a new temporary folder, removed after)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--out", default=str(HERE / "out" / "load.json"))
    args = parser.parse_args(argv)

    work = Path(args.tmp) if args.tmp else Path(tempfile.mkdtemp(prefix="klimainnkjop-load-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIMAINNKJOP_") and k != "DATABASE_URL"}
    env.update({"KLIMAINNKJOP_DATA_DIR": str(work / "var"), "BENCH_REDIS_URL": args.redis_url})
    print(f"klimainnkjop load benchmark — {platform.node()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {args.clients} clients × {args.seconds:.0f} s, work folder {work}", flush=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    rows = []
    try:
        demo = cli(env, "demo", "--scale", str(args.demo_scale), "--if-empty")
        if demo.returncode != 0:
            raise SystemExit(f"demo failed: {demo.stderr[-2000:]}")
        login_file = work / "login.txt"  # `demo --if-empty` prints the login only when it makes the region
        found = re.search(r"Innlogging: (\S+) / (\S+)", demo.stdout)
        if found:
            login_file.write_text(f"{found.group(1)} {found.group(2)}")
        username, password = login_file.read_text().split()
        orgs = json.loads(cli(env, "org", "list", "--format", "json").stdout)
        orgnrs = [o["orgnr"] for o in (orgs["rows"] if isinstance(orgs, dict) else orgs)]
        urls = ["/"] + [f"/org/{n}/" for n in orgnrs]
        print(f"  demo region: {len(orgnrs)} organisations; pages: the region page and each organisation's page",
              flush=True)
        for config in args.configs.split(","):
            rows.append(measure(config.strip(), env, args, urls, username, password))
    finally:
        if not args.keep and not args.tmp:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    before = [r for r in rows if r["config"] == "waitress"]  # the mean of the runs before and after, when bracketed
    baseline = {"throughput": statistics.mean(r["throughput"] for r in before)} if before else None
    when = dt.datetime.now().isoformat(timespec="minutes")
    print(f"\n{when}, load average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after, on "
          f"{os.cpu_count()} cores; {time.perf_counter() - started:.0f} s in all\n")
    print(table(rows, baseline))
    for r in rows:
        if r["errors"]:
            print(f"  {r['config']}: errors such as {r['error_examples']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "when": when, "load_average": {"before": load_before, "after": load_after},
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "args": vars(args), "urls": urls, "rows": rows}, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"Written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
