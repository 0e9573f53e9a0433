"""Locust journeys for `make bench-load` (bench/load.sh drives it; bench/load_report.py reports).

Client staff open home, maps and the viewer, then pan (uncached and cached vector tiles, fetched
four at a time as a browser does); share-link visitors open the shared map and pan; analysts
upload small GeoJSON layers through the API and open their project; leads open agreements and
statements. Every user logs in once. Each request is recorded (route, ms, error) to
$LOAD_SAMPLES for percentiles by route and by kind.
"""

import itertools
import json
import os
import random
import re
import threading
import time
from pathlib import Path
from typing import Any

import gevent.pool
from locust import FastHttpUser, between, events, task

DATA: dict[str, Any] = json.loads(Path(os.environ["LOAD_PREPARED"]).read_text())
SAMPLES: list[tuple[str, float, float, str]] = []  # (route, time, ms, error or "")
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
HOT_PER_MAP = 24  # tiles every panning user comes back to: cached after their first request
_lock = threading.Lock()


def _tile_pools() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Per town: an iterator of never-requested tiles of its maps, and its hot (cached) tiles."""
    uncached: dict[str, Any] = {}
    hot: dict[str, list[str]] = {}
    entries = [(t, m) for t, ms in DATA["maps"].items() for m in ms] + [("share", DATA["share"])]
    rng = random.Random(7)
    fresh: dict[str, list[str]] = {}
    for town, entry in entries:
        urls = [
            tpl.format(z=z, x=x, y=y) for z, x, y in entry["tile_xyz"] for tpl in entry["tiles"]
        ]
        rng.shuffle(urls)
        hot.setdefault(town, []).extend(urls[:HOT_PER_MAP])
        fresh.setdefault(town, []).extend(urls[HOT_PER_MAP:])
    for town, urls in fresh.items():
        rng.shuffle(urls)
        uncached[town] = itertools.cycle(urls)
    return uncached, hot


UNCACHED, HOT = _tile_pools()


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, **kw: Any) -> None:
    SAMPLES.append((name, time.time(), response_time, str(exception)[:120] if exception else ""))


@events.quitting.add_listener
def _dump(environment: Any, **kw: Any) -> None:
    with open(os.environ["LOAD_SAMPLES"], "w") as out:
        json.dump(SAMPLES, out)


class Portal(FastHttpUser):
    abstract = True
    wait_time = between(1, 3)
    username = ""

    def login(self, username: str) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.content or b"")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": DATA["password"],
                "csrfmiddlewaretoken": token.group(1).decode() if token else "",
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
            catch_response=True,
        ) as response:
            if "/accounts/login/" in (response.url or ""):
                response.failure("login refused")
        self.username = username

    def csrf(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return str(cookie.value)
        return ""

    def tiles(self, urls: list[str], name: str) -> None:
        pool = gevent.pool.Pool(4)
        for url in urls:
            pool.spawn(self.client.get, url, name=name)
        pool.join()


class ClientStaff(Portal):
    weight = 50

    def on_start(self) -> None:
        self.town = random.choice(list(DATA["clients"]))
        self.login(random.choice(DATA["clients"][self.town]))
        self.map = random.choice(DATA["maps"][self.town])

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(2)
    def maps(self) -> None:
        self.client.get("/maps/", name="maps")

    @task(3)
    def viewer(self) -> None:
        self.client.get(self.map["page"], name="viewer")
        self.tiles(random.sample(HOT[self.town], 8), "tile cached")

    @task(6)
    def pan(self) -> None:
        self.tiles([next(UNCACHED[self.town]) for _ in range(4)], "tile uncached")
        self.tiles(random.sample(HOT[self.town], 4), "tile cached")


class ShareVisitor(Portal):
    weight = 20

    @task(1)
    def shared_map(self) -> None:
        self.client.get(DATA["share"]["page"], name="share page")
        self.tiles(random.sample(HOT["share"], 8), "tile shared")

    @task(3)
    def pan(self) -> None:
        self.tiles(random.sample(HOT["share"], 6), "tile shared")


class Analyst(Portal):
    weight = 12
    wait_time = between(3, 8)

    def on_start(self) -> None:
        self.login("analyst")
        self.n = 0

    @task(2)
    def project(self) -> None:
        self.client.get(DATA["project"], name="project")

    @task(1)
    def upload(self) -> None:
        self.n += 1
        body = json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "Point",
                            "coordinates": [-122.36 + i / 10000, 38.40 + self.n / 10000],
                        },
                        "properties": {"name": f"Point {i}", "n": i},
                    }
                    for i in range(200)
                ],
            }
        ).encode()
        with self.client.post(
            DATA["upload"],
            files={"file": (f"load-{self.n}.geojson", body, "application/geo+json")},
            headers={"X-CSRFToken": self.csrf(), "Referer": self.host + DATA["project"]},
            name="upload (API)",
            catch_response=True,
        ) as response:
            if response.status_code != 202:
                response.failure(f"upload answered {response.status_code}")
                return
            status_url = response.json()["status_url"]
        for _ in range(20):
            job = self.client.get(status_url, name="upload status").json()
            if job.get("status") in ("succeeded", "failed"):
                break
            time.sleep(1)


class Lead(Portal):
    weight = 18

    def on_start(self) -> None:
        self.login("lead")

    @task(2)
    def agreement(self) -> None:
        self.client.get(random.choice(DATA["agreements"])["page"], name="agreement")

    @task(2)
    def statement(self) -> None:
        self.client.get(random.choice(DATA["agreements"])["statement"], name="statement")

    @task(1)
    def statement_csv(self) -> None:
        self.client.get(random.choice(DATA["agreements"])["csv"], name="statement csv")

    @task(1)
    def home(self) -> None:
        self.client.get("/", name="home")
