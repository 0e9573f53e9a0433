"""CPU seconds used so far by a process and all its descendants (for `make bench-load`).

    python bench/load_cpu.py PID   -> prints one number (user + system seconds, live processes)
Taken before and after the run, the difference is what the portal stack (gunicorn and Celery,
started by scripts/run.sh) used, so the report can say how much of the machine was the portal's.
"""

import os
import sys
from pathlib import Path


def tree_seconds(root: int) -> float:
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        pid, ppid = int(entry.name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        # utime, stime, cutime, cstime: children that were waited for count too.
        ticks[pid] = sum(int(v) for v in fields[11:15])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    print(f"{tree_seconds(int(sys.argv[1])):.2f}")
