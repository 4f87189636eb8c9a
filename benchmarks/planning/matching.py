"""Benchmark: 50,000 alerts (mixed radii, wards, drawn polygons) against a week of 500 new applications.

Times `portal.planning.services.match_targets` (indexed bounding-box prefilter, then the exact test)
and checks that it finds exactly the pairs an independent brute-force check finds: every alert
against every application, with pyproj's geodesic inverse for distances and a vectorised
crossing-number test for polygons.

    python -m benchmarks.planning.matching                      # SQLite
    python -m benchmarks.planning.matching --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import time
from array import array
from datetime import date, timedelta

from pyproj import Geod
from sqlalchemy import insert

from benchmarks.planning.common import drop_schema, make_benchmark_app
from portal.common.gazetteer.geography import DEMO_COUNCIL_BOX as COUNCIL_AREA
from portal.common.gazetteer.geography import DEMO_WARD_BOXES as WARDS
from portal.common.models import utcnow
from portal.extensions import db
from portal.planning import services
from portal.planning.models import PlanningAlert, PlanningApplication

TYPES = list(PlanningApplication.TYPES)


def random_point(rng: random.Random) -> tuple[float, float]:
    box = COUNCIL_AREA
    return rng.uniform(box.south, box.north), rng.uniform(box.west, box.east)


def random_polygon(rng: random.Random) -> list[list[float]]:
    """A star-shaped (possibly concave) polygon 300 m to 3 km across, never self-crossing."""
    lat, lon = random_point(rng)
    corners = rng.randint(3, 9)
    size = rng.uniform(0.0015, 0.014)
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(corners))
    points = []
    for angle in angles:
        r = size * rng.uniform(0.4, 1.0)
        points.append(
            [round(lat + r * math.sin(angle), 6), round(lon + 1.6 * r * math.cos(angle), 6)]
        )
    return points


def build_alerts(count: int, rng: random.Random) -> list[dict]:
    now = utcnow()
    rows = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.40:
            area = services.AlertArea(
                "radius", "bench", *random_point(rng), PlanningAlert.RADIUS_SMALL
            )
        elif roll < 0.70:
            area = services.AlertArea(
                "radius", "bench", *random_point(rng), PlanningAlert.RADIUS_MEDIUM
            )
        elif roll < 0.85:
            area = services.AlertArea(
                "radius", "bench", *random_point(rng), PlanningAlert.RADIUS_LARGE
            )
        elif roll < 0.95:
            area = services.AlertArea("polygon", "bench", polygon=random_polygon(rng))
        else:
            area = services.AlertArea("ward", "bench", ward=rng.choice(list(WARDS)))
        min_lat, max_lat, min_lon, max_lon = area.bbox()
        types = rng.sample(TYPES, rng.randint(1, 3)) if rng.random() < 0.2 else None
        rows.append(
            {
                "email": f"bench{n}@example.com",
                "kind": area.kind,
                "label": area.label,
                "latitude": area.latitude,
                "longitude": area.longitude,
                "radius_m": area.radius_m,
                "ward": area.ward,
                "polygon": area.polygon,
                "min_lat": min_lat,
                "max_lat": max_lat,
                "min_lon": min_lon,
                "max_lon": max_lon,
                "frequency": rng.choice(["instant", "daily", "weekly"]),
                "include_comments": False,
                "application_types": types,
                "token": f"bench-{n}",
                "active": True,
                "created_at": now,
                "confirmed_at": now,
            }
        )
    return rows


def build_applications(count: int, rng: random.Random) -> list[dict]:
    from portal.common.gazetteer.geography import ward_at

    monday = date.today() - timedelta(days=date.today().weekday())
    rows = []
    for n in range(count):
        lat, lon = random_point(rng)
        code = rng.choice(TYPES)
        reference = f"99/{n:05d}/{code}"
        rows.append(
            {
                "reference": reference,
                "slug": reference.replace("/", "-"),
                "site_address": f"{n} Bench Street",
                "latitude": lat,
                "longitude": lon,
                "ward": ward_at(lat, lon),
                "description": "Benchmark",
                "application_type": code,
                "status": "registered",
                "received_date": monday + timedelta(days=n % 7),
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    return rows


def point_in_polygon_brute(lat: float, lon: float, polygon: list[list[float]]) -> bool:
    """Crossing-number test, written apart from the portal's own implementation."""
    crossings = 0
    for i in range(len(polygon)):
        y1, x1 = polygon[i - 1]
        y2, x2 = polygon[i]
        if (y2 > lat) != (y1 > lat):
            x_at = x2 + (lat - y2) * (x1 - x2) / (y1 - y2)
            if lon < x_at:
                crossings += 1
    return crossings % 2 == 1


def brute_force(alerts: list[dict], apps: list[dict]) -> set[tuple[int, int]]:
    """Every alert against every application: pyproj geodesics, polygon crossings, ward names."""
    geod = Geod(ellps="WGS84")
    lats = array("d", [a["latitude"] for a in apps])
    lons = array("d", [a["longitude"] for a in apps])
    pairs: set[tuple[int, int]] = set()
    for alert in alerts:
        if alert["kind"] == "radius":
            n = len(apps)
            _, _, dist = geod.inv(
                array("d", [alert["longitude"]] * n),
                array("d", [alert["latitude"]] * n),
                lons,
                lats,
            )
            hits = [apps[i] for i in range(n) if dist[i] <= alert["radius_m"]]
        elif alert["kind"] == "ward":
            hits = [a for a in apps if a["ward"] == alert["ward"]]
        else:
            hits = [
                a
                for a in apps
                if point_in_polygon_brute(a["latitude"], a["longitude"], alert["polygon"])
            ]
        types = alert["application_types"]
        pairs.update(
            (alert["id"], a["id"]) for a in hits if not types or a["application_type"] in types
        )
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--alerts", type=int, default=50_000)
    parser.add_argument("--applications", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(2026)
    app, url, schema = make_benchmark_app(args.database_url or None)
    try:
        with app.app_context():
            started = time.perf_counter()
            alert_rows = build_alerts(args.alerts, rng)
            for start in range(0, len(alert_rows), 5000):
                db.session.execute(insert(PlanningAlert), alert_rows[start : start + 5000])
            app_rows = build_applications(args.applications, rng)
            db.session.execute(insert(PlanningApplication), app_rows)
            db.session.commit()
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
            print(
                f"loaded {args.alerts} alerts and {args.applications} applications in {time.perf_counter() - started:.1f}s"
            )
            alerts = [
                dict(r._mapping)
                for r in db.session.execute(
                    db.select(
                        PlanningAlert.id,
                        PlanningAlert.kind,
                        PlanningAlert.latitude,
                        PlanningAlert.longitude,
                        PlanningAlert.radius_m,
                        PlanningAlert.ward,
                        PlanningAlert.polygon,
                        PlanningAlert.application_types,
                    )
                )
            ]
            applications = list(db.session.scalars(db.select(PlanningApplication)))
            apps = [
                {
                    "id": a.id,
                    "latitude": a.latitude,
                    "longitude": a.longitude,
                    "ward": a.ward,
                    "application_type": a.application_type,
                }
                for a in applications
            ]
            targets = [services.target_of(a) for a in applications]
            db.session.commit()
            timings, cpu = [], []
            for _ in range(args.runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                matches = services.match_targets(targets)
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                db.session.commit()
            found = {
                (alert_id, app_id) for alert_id, app_ids in matches.items() for app_id in app_ids
            }
            started = time.perf_counter()
            expected = brute_force(alerts, apps)
            brute_seconds = time.perf_counter() - started
            engine = db.engine.dialect.name
        print(
            f"database: {engine}; machine: {platform.node()} {platform.machine()} {platform.python_version()}"
        )
        print(
            f"matching runs, wall (s): {', '.join(f'{t:.2f}' for t in timings)}; best {min(timings):.2f}"
        )
        print(f"matching runs, this process's CPU (s): {', '.join(f'{t:.2f}' for t in cpu)}")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"matches: {len(found)} pairs for {len(matches)} alerts; brute force {len(expected)} pairs in {brute_seconds:.1f}s"
        )
        missing, extra = expected - found, found - expected
        print(
            f"identical: {not missing and not extra} (missing {len(missing)}, extra {len(extra)})"
        )
        if missing or extra:
            raise SystemExit(1)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
