"""Report of `make bench-load`: per-route p50/p95/p99 and errors, by kind, peak connections.

    python bench/load_report.py var/bench-load [--users 100]
Pages are every HTML/CSV/JSON route except tiles, logins and the upload itself; tiles are every
vector tile route. The last line: RESULT load users=… p95_ms=… tile_p95_ms=… errors=….
"""

import argparse
import json
import os
from pathlib import Path

TILES = ("tile uncached", "tile cached", "tile shared")
NOT_PAGES = (*TILES, "login", "login page", "upload (API)")


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def machine_share(out: Path) -> str:
    """How busy the cores were during the run, and locust's own share of them."""
    try:
        before = [int(v) for v in (out / "cpu_before.txt").read_text().split()[1:]]
        after = [int(v) for v in (out / "cpu_after.txt").read_text().split()[1:]]
        # The last line: /usr/bin/time writes "Command exited with non-zero status N" first when
        # locust reports failures.
        times = (out / "locust_time.txt").read_text().strip().splitlines()[-1]
        user_s, sys_s, _wall = (float(v) for v in times.split())
        loads = [line.split("load average:")[1].strip() for line in (out / "uptime.txt").open()]
        stack_s = float((out / "stack_cpu_after.txt").read_text()) - float(
            (out / "stack_cpu_before.txt").read_text()
        )
    except (OSError, ValueError, IndexError):
        return "machine: not measured"
    ticks = [a - b for a, b in zip(after, before, strict=False)]
    total_s = sum(ticks) / os.sysconf("SC_CLK_TCK")
    busy_s = total_s - (ticks[3] + ticks[4]) / os.sysconf("SC_CLK_TCK")  # idle + iowait

    def share(seconds: float) -> str:
        return f"{seconds / total_s * 100 if total_s else 0:.0f}%"

    # The rest of the busy time: PostgreSQL, Redis and whatever else runs on the machine.
    rest_s = busy_s - stack_s - user_s - sys_s
    return (
        f"machine: {share(busy_s)} of {os.cpu_count()} cores busy: portal web + worker "
        f"{share(stack_s)}, locust {share(user_s + sys_s)}, the rest (PostgreSQL, Redis, other "
        f"work on the machine) {share(rest_s)}; load average before {loads[0]}, after {loads[-1]}"
    )


def machine_probe(out: Path) -> dict[str, float] | None:
    """bench/load_probe.py's figures (the machine's speed just before the run), if taken."""
    try:
        probe: dict[str, float] = json.loads((out / "probe.json").read_text())
    except (OSError, ValueError):
        return None
    return probe


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()
    samples = json.loads((args.out / "samples.json").read_text())
    routes: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for name, _start, ms, error in samples:
        routes.setdefault(name, []).append(ms)
        errors[name] = errors.get(name, 0) + int(bool(error))
        if error:
            kinds[f"{name}: {error}"] = kinds.get(f"{name}: {error}", 0) + 1
    print(f"{'route':<16} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name in sorted(routes):
        v = routes[name]
        print(
            f"{name:<16} {len(v):>8} {errors[name]:>6} {pct(v, 50):>8.0f} {pct(v, 95):>8.0f} "
            f"{pct(v, 99):>8.0f}"
        )
    for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  error x{n}: {kind}")
    pages = [ms for n, v in routes.items() if n not in NOT_PAGES for ms in v]
    tiles = [ms for n, v in routes.items() if n in TILES for ms in v]
    logins = routes.get("login", [])
    total_errors = sum(errors.values())
    duration = max(s[1] for s in samples) - min(s[1] for s in samples) if samples else 0
    print(
        f"pages: {len(pages)} requests p50 {pct(pages, 50):.0f} ms, p95 {pct(pages, 95):.0f} ms, "
        f"p99 {pct(pages, 99):.0f} ms (target p95 <= 300)"
    )
    print(
        f"tiles: {len(tiles)} requests p50 {pct(tiles, 50):.0f} ms, p95 {pct(tiles, 95):.0f} ms, "
        f"p99 {pct(tiles, 99):.0f} ms (target p95 <= 150)"
    )
    print(f"logins: {len(logins)} p50 {pct(logins, 50):.0f} ms, p95 {pct(logins, 95):.0f} ms")
    print(f"throughput: {len(samples) / duration if duration else 0:.0f} requests/s")
    lines = (args.out / "pg_connections.txt").read_text().splitlines()
    max_conn = lines[0].split()[1] if lines else "?"
    counts = [int(line.split()[1]) for line in lines[1:]]
    peak = max(counts, default=0)
    print(f"PostgreSQL connections of this database: peak {peak} (max_connections {max_conn})")
    print(machine_share(args.out))
    probe = machine_probe(args.out)
    if probe:
        print(
            f"machine speed before the run: cpu probe {probe['cpu_probe_ms']} ms (lower is faster), "
            f"a home page alone {probe['page_ms']} ms"
        )
    print(
        f"RESULT load users={args.users} p95_ms={pct(pages, 95):.0f} "
        f"tile_p95_ms={pct(tiles, 95):.0f} errors={total_errors} login_p95_ms={pct(logins, 95):.0f} "
        f"peak_pg_connections={peak}"
        + (
            f" cpu_probe_ms={probe['cpu_probe_ms']} page_alone_ms={probe['page_ms']}"
            if probe
            else ""
        )
    )


if __name__ == "__main__":
    main()
