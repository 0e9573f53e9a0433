"""How fast this machine is just before the load run: `make bench-load` figures swing with it.

    python bench/load_probe.py URL PREPARED.json   -> one JSON line
`cpu_probe_ms`: a fixed pure-Python loop, median of 7 (on the machine these notes were written
on it took 155 ms when quiet and 210 ms an hour later, with nothing of ours running: the host
is shared). `page_ms`: a demo town user's home page from the live stack, one request at a time,
median of 20: what a page costs when nobody else is asking. The report prints both beside the
percentiles, so two runs can be compared knowing the machine they ran on.
"""

import json
import re
import statistics
import sys
import time
from pathlib import Path

import requests

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def cpu_probe_ms() -> float:
    def once() -> float:
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i * i % 7
        return (time.perf_counter() - started) * 1000

    return statistics.median(once() for _ in range(7))


def page_ms(base: str, prepared: dict) -> float:
    town = sorted(prepared["clients"])[0]
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=30)
    token = CSRF.search(form.text)
    session.post(
        f"{base}/accounts/login/",
        data={
            "username": prepared["clients"][town][0],
            "password": prepared["password"],
            "csrfmiddlewaretoken": token.group(1) if token else "",
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
    )
    times = []
    for _ in range(23):
        started = time.perf_counter()
        response = session.get(f"{base}/", timeout=30)
        response.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[3:])  # the first ones warm this worker's caches


def main() -> None:
    base, prepared = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
    print(
        json.dumps(
            {"cpu_probe_ms": round(cpu_probe_ms()), "page_ms": round(page_ms(base, prepared), 1)}
        )
    )


if __name__ == "__main__":
    main()
