"""From generated ledger exports to the figures on the web page, through real processes and HTTP:
`klimainnkjop demo` (generate → import → compute), then `klimainnkjop serve`, then a browser-like client."""
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(env, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "klimainnkjop.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def norwegian_tonnes(kg: float) -> str:
    """1 234,5 with a non-breaking space, written independently of the code under test."""
    return f"{kg / 1000:,.1f}".replace(",", " ").replace(".", ",").replace(" ", "\u00a0")


@pytest.fixture
def served_demo(tmp_path, separate_database):
    env = {**os.environ, "KLIMAINNKJOP_DATA_DIR": str(tmp_path / "var")}
    demo = run_cli(env, "demo", "--scale", "0.004", "--seed", "3")
    assert demo.returncode == 0, demo.stderr
    login = re.search(r"Innlogging: (\S+) / (\S+)", demo.stdout)
    assert login, demo.stdout
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "klimainnkjop.cli", "serve", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/logg-inn/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield env, f"http://127.0.0.1:{port}", login.group(1), login.group(2)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=40)
    # serve started a report worker and, stopped with SIGTERM, stopped it too (no orphaned worker process)
    started = re.search(r"report worker started \(process (\d+)\)", out.decode())
    assert started, out
    with pytest.raises(ProcessLookupError):
        os.kill(int(started.group(1)), 0)


def test_generated_exports_end_as_figures_on_the_region_page(served_demo):
    env, base, username, password = served_demo
    totals = json.loads(run_cli(env, "totals", "--by", "year", "--format", "json").stdout)
    assert totals["rows"], "the demo computed nothing"
    latest = max(totals["rows"], key=lambda r: r["year"])
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(f"{base}/logg-inn/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    page = browser.open(f"{base}/logg-inn/", data=body.encode()).read().decode()
    assert "Regionoversikt" in page
    for row in totals["rows"]:  # every year's total is in the page's table of emissions per year
        assert norwegian_tonnes(row["kg_co2e"]) in page, row
    assert norwegian_tonnes(latest["kg_co2e"]) in page
