"""Benchmark commune assignment against geopandas.sjoin and a naive loop.

    .venv/bin/python bench/assign.py [--points N] [--repeats R] [--seed S]

For the national GADM file (11,163 communes) and for Son La's 204 communes
(2024 file), it generates N seeded points inside the area (default 334,000):
mostly inside communes, a share placed within 60 m of a boundary, a few
outside (swapped coordinates, (0, 0), far away).  Accuracies: 10 % exactly
0 m, most 5-50 m, 1 % 100-500 m.  It then times, as the median of R repeats
(interleaved, so background load hits every contender alike):

* ours: ``CommuneIndex.assign_many`` with the ambiguity check on (the index
  is built once, timed separately);
* ``geopandas.sjoin(points, polygons, predicate="within")`` on the same
  points and polygons, with a fresh points frame per run (sjoin builds its
  spatial index on the points for "within", which it would otherwise cache
  between runs; the cached figure is printed too);
* a naive loop (``polygon.contains(point)`` over every polygon, per point)
  on a small sample, extrapolated.

geopandas is a benchmark-only dependency: without it the sjoin part is
skipped.  The boundary files are read from where ``tracker.geo.sources``
finds them; a missing file is reported and its part skipped (exit code 0).
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import shapely  # noqa: E402
import shapely.geometry  # noqa: E402

from tracker.geo.assign import BIT_AMBIGUOUS, BIT_OUTSIDE, CommuneIndex, metres_per_degree  # noqa: E402
from tracker.geo.sources import (  # noqa: E402
    NATIONAL_2024_COMMUNES,
    SON_LA_2024_COMMUNES,
    boundary_file,
    read_features,
)

try:
    import geopandas as gpd
except ImportError:  # pragma: no cover - depends on the environment
    gpd = None


def load(name: str) -> tuple[list[str], np.ndarray] | None:
    path = boundary_file(name)
    if path is None:
        return None
    features = read_features(path)
    codes = [feature["properties"]["code"] for feature in features]
    geoms = np.array([shapely.geometry.shape(feature["geometry"]) for feature in features], dtype=object)
    del features
    gc.collect()  # the parsed JSON is large; do not let it slow every later collection
    return codes, geoms


def make_points(geoms: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Seeded (lat, lon, accuracy) arrays and the counts of each kind."""
    rng = np.random.default_rng(seed)
    n_near = int(n * 0.12)
    n_out = max(int(n * 0.01), 4)
    n_in = n - n_near - n_out

    # Inside: a commune at random, then a uniform point in it (rejection).
    pick = rng.integers(0, len(geoms), n_in)
    bounds = shapely.bounds(geoms)
    lon = np.empty(n_in)
    lat = np.empty(n_in)
    todo = np.arange(n_in)
    while len(todo):
        b = bounds[pick[todo]]
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        hit = shapely.contains_xy(geoms[pick[todo]], x, y)
        lon[todo[hit]], lat[todo[hit]] = x[hit], y[hit]
        todo = todo[~hit]

    # Near a boundary: a random boundary point moved 0-60 m in a random direction.
    rings = shapely.boundary(geoms[rng.integers(0, len(geoms), n_near)])
    on = shapely.get_coordinates(shapely.line_interpolate_point(rings, rng.uniform(0, 1, n_near), normalized=True))
    kx, ky = metres_per_degree(on[:, 1])
    angle = rng.uniform(0, 2 * np.pi, n_near)
    reach = rng.uniform(0, 60, n_near)
    near_lon = on[:, 0] + reach * np.cos(angle) / kx
    near_lat = on[:, 1] + reach * np.sin(angle) / ky

    # Outside: swapped coordinates, (0, 0), and points 5-50 km beyond the area.
    k = n_out // 4
    swapped = np.column_stack([lon[:k], lat[:k]])  # (lat, lon) given as (lon, lat)
    zeros = np.zeros((k, 2))
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    m = n_out - 2 * k
    side = rng.integers(0, 2, m)
    far_lon = np.where(side == 0, minx - rng.uniform(0.05, 0.5, m), maxx + rng.uniform(0.05, 0.5, m))
    far_lat = rng.uniform(miny, maxy, m)
    out_lon = np.concatenate([swapped[:, 1], zeros[:, 1], far_lon])
    out_lat = np.concatenate([swapped[:, 0], zeros[:, 0], far_lat])

    lons = np.concatenate([lon, near_lon, out_lon])
    lats = np.concatenate([lat, near_lat, out_lat])
    acc = rng.uniform(5, 50, n)
    acc[rng.random(n) < 0.10] = 0.0
    wide = rng.random(n) < 0.01
    acc[wide] = rng.uniform(100, 500, wide.sum())
    order = rng.permutation(n)
    kinds = {"inside": n_in, "near boundary": n_near, "outside": n_out}
    return lats[order], lons[order], acc[order], kinds


class Timer:
    """Wall-clock and CPU time of repeated runs (CPU time is what this
    process itself spent: robust to other processes sharing the machine)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        return result

    def rate(self, n: int) -> str:
        wall, cpu = statistics.median(self.wall), statistics.median(self.cpu)
        return f"{n / wall / 1e6:5.2f} M points/s wall ({wall * 1e3:7.1f} ms), {n / cpu / 1e6:5.2f} M/s CPU"


def median_time(fn, repeats: int) -> Timer:
    timer = Timer()
    for _ in range(repeats):
        timer.run(fn)
    return timer


def ratio(slow: Timer, fast: Timer) -> str:
    wall = statistics.median(slow.wall) / statistics.median(fast.wall)
    cpu = statistics.median(slow.cpu) / statistics.median(fast.cpu)
    return f"{wall:5.2f}x wall, {cpu:5.2f}x CPU"


def bench(label: str, name: str, n: int, repeats: int, seed: int) -> None:
    print(f"\n== {label}: {name}")
    loaded = load(name)
    if loaded is None:
        print(f"   {name} not found (looked where tracker.geo.sources looks): skipped.")
        return
    codes, geoms = loaded
    print(f"   {len(codes):,} communes, {shapely.get_num_coordinates(geoms).sum():,} vertices")

    start = time.perf_counter()
    index = CommuneIndex(codes, geoms)
    build = time.perf_counter() - start
    print(f"   index build (once): {build:.2f} s, fast-path raster {index.raster_bytes / 1e6:.1f} MB")

    lats, lons, acc, kinds = make_points(geoms, n, seed)
    print("   points: " + ", ".join(f"{count:,} {kind}" for kind, count in kinds.items()))
    declared = [codes[i] for i in np.random.default_rng(seed + 1).integers(0, len(codes), n)]
    gc.collect()

    ours = Timer()
    sjoin = Timer()
    polygons = frame = joined = None
    if gpd is not None:
        polygons = gpd.GeoDataFrame({"code": codes}, geometry=gpd.GeoSeries(list(geoms), crs=4326))
        points = shapely.points(lons, lats)
    else:
        print("   geopandas is not importable (a benchmark-only dependency): sjoin skipped.")

    index.assign_many(lats[:1000], lons[:1000], acc[:1000])  # warm up
    for _ in range(repeats):
        batch = ours.run(lambda: index.assign_many(lats, lons, acc))
        if gpd is not None:
            frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(points.copy(), crs=4326))
            joined = sjoin.run(lambda: gpd.sjoin(frame, polygons, predicate="within"))  # noqa: B023
    print(f"   ours  assign_many          {ours.rate(n)}")
    with_declared = median_time(lambda: index.assign_many(lats, lons, acc, declared), repeats)
    print(f"   ours  with declared codes  {with_declared.rate(n)}")

    if gpd is not None:
        cached = median_time(lambda: gpd.sjoin(frame, polygons, predicate="within"), repeats)
        print(f"   sjoin within               {sjoin.rate(n)}")
        print(f"   sjoin, point tree cached   {cached.rate(n)}")
        print(f"   ratio ours/sjoin (speed)   {ratio(sjoin, ours)}")
        print(f"   ratio ours/cached sjoin    {ratio(cached, ours)}")
        # Sanity: wherever sjoin finds exactly one commune, compare.
        hits = joined.groupby(level=0)["code"].agg(["first", "size"])
        one = hits[hits["size"] == 1]
        ours_codes = np.array(batch.codes(), dtype=object)[one.index.to_numpy()]
        agree = np.mean(ours_codes == one["first"].to_numpy())
        print(f"   agreement with sjoin where it finds one commune: {agree:.4%} of {len(one):,}")

    sample = min(n, max(20, 2_000_000 // len(geoms)))
    plain = [shapely.from_wkb(shapely.to_wkb(g)) for g in geoms]  # unprepared copies
    sample_points = [shapely.Point(x, y) for x, y in zip(lons[:sample], lats[:sample], strict=True)]

    def naive() -> list[str | None]:
        found = []
        for point in sample_points:
            code = None
            for poly_code, polygon in zip(codes, plain, strict=True):
                if polygon.contains(point):
                    code = poly_code
                    break
            found.append(code)
        return found

    loop = median_time(naive, 1)
    per_point = statistics.median(loop.wall) / sample
    print(f"   naive loop ({sample:,} points, extrapolated) {1 / per_point / 1e6:5.3f} M points/s "
          f"({per_point * n:,.1f} s for all)")
    print(f"   ratio ours/naive (speed)   {per_point * n / statistics.median(ours.wall):8.0f}x wall")

    ambiguous = int(np.count_nonzero(batch.flags & BIT_AMBIGUOUS))
    outside = int(np.count_nonzero(batch.flags & BIT_OUTSIDE))
    print(f"   results: {ambiguous:,} ambiguous, {outside:,} outside, {np.sum(batch.commune < 0):,} unassigned")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=334_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    bench("Vietnam, national 2024 (GADM)", NATIONAL_2024_COMMUNES, args.points, args.repeats, args.seed)
    bench("Son La, 2024 communes (GADM)", SON_LA_2024_COMMUNES, args.points, args.repeats, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
