"""Unit tests for tracker.geo.assign: plain data, no app.

Hand-made squares always run.  The tests on real Son La boundaries run when
the boundary files are available (see tracker/geo/sources.py) and are
skipped, with the reason, when they are not.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box

from tracker.geo.assign import (
    FLAG_AMBIGUOUS,
    FLAG_MISMATCH,
    FLAG_OUTSIDE,
    FLAG_SWAPPED,
    SNAP_TOLERANCE_M,
    Assignment,
    AssignmentBatch,
    CommuneIndex,
    degree_radius,
    metres_per_degree,
)
from tracker.geo.sources import (
    SON_LA_2024_COMMUNES,
    SON_LA_2025_COMMUNES,
    boundary_file,
    read_features,
)

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def local_distance_m(lat, lon, geom):
    """Metres from a point to a geometry, in an azimuthal equidistant
    projection centred on the point (independent of the module's method)."""
    to_local = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m", always_xy=True
    )
    near = shapely.clip_by_rect(geom, lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    projected = shapely.transform(near, lambda c: np.column_stack(to_local.transform(c[:, 0], c[:, 1])))
    return shapely.distance(projected, shapely.Point(0, 0))


def comparable(result: Assignment) -> tuple:
    """An Assignment as a tuple in which NaN equals NaN."""
    nan_safe = [None if isinstance(v, float) and math.isnan(v) else v for v in (result.lat, result.lon)]
    return (
        result.commune, result.method, result.flags, result.candidates, result.nearest, result.distance_m, *nan_safe
    )


def same_rows(batch: AssignmentBatch, index: CommuneIndex, lats, lons, accs, declared):
    """Indices where assign_many and assign (row by row) differ."""
    return [
        i
        for i in range(len(lats))
        if comparable(batch.row(i))
        != comparable(index.assign(lats[i], lons[i], accs[i], None if declared is None else declared[i]))
    ]


# ---------------------------------------------------------------------------
# Hand-made squares near Son La's latitude (always run)
# ---------------------------------------------------------------------------

LON0, LAT0, SIDE = 104.0, 21.0, 0.01  # about 1.04 km east-west, 1.11 km north-south


def square(col: float, row: float) -> Polygon:
    x, y = LON0 + col * SIDE, LAT0 + row * SIDE
    return box(x, y, x + SIDE, y + SIDE)


@pytest.fixture(scope="module")
def squares() -> CommuneIndex:
    """A 2x2 block A B / C D, a square E with a 0.002 degree hole, and F and G
    overlapping each other by a quarter of a square.

        row 1:  C D         E at col 4     F at col 8, G at col 8.5 (overlap)
        row 0:  A B
    """
    e_outer = square(4, 0)
    hole = box(LON0 + 4.004 * SIDE, LAT0 + 0.4 * SIDE, LON0 + 4.006 * SIDE, LAT0 + 0.6 * SIDE)
    e = Polygon(e_outer.exterior.coords, [hole.exterior.coords])
    geoms = [square(0, 0), square(1, 0), square(0, 1), square(1, 1), e, square(8, 0), square(8.5, 0)]
    return CommuneIndex(["A", "B", "C", "D", "E", "F", "G"], geoms)


def test_point_well_inside_a_square(squares):
    result = squares.assign(LAT0 + 0.5 * SIDE, LON0 + 0.5 * SIDE, 10)
    assert result.commune == "A"
    assert result.method == "contained"
    assert result.flags == ()
    assert result.flag is None
    assert result.candidates == ("A",)
    assert result.nearest is None and result.distance_m is None


def test_near_shared_boundary_is_ambiguous_and_declared_breaks_the_tie(squares):
    # 10 m west of the A|B boundary (a meridian), inside A.
    kx, _ = metres_per_degree(LAT0)
    lon = LON0 + SIDE - 10 / kx
    lat = LAT0 + 0.5 * SIDE
    tie = squares.assign(lat, lon, 50, declared="B")
    assert tie.commune == "B"
    assert tie.method == "declared_tie_break"
    assert tie.flags == (FLAG_AMBIGUOUS,)
    assert tie.candidates == ("A", "B")

    undeclared = squares.assign(lat, lon, 50)
    assert (undeclared.commune, undeclared.method, undeclared.flags) == ("A", "contained", (FLAG_AMBIGUOUS,))

    # The declared commune D is about 550 m away, not a candidate: keep the
    # containing commune and flag the mismatch.
    other = squares.assign(lat, lon, 50, declared="D")
    assert other.commune == "A"
    assert other.method == "contained"
    assert other.flags == (FLAG_AMBIGUOUS, FLAG_MISMATCH)
    assert other.flag == FLAG_AMBIGUOUS
    assert "D" not in other.candidates

    # A small radius keeps it unambiguous.
    assert squares.assign(lat, lon, 5).flags == ()


def test_radius_is_metres_along_the_parallel_and_the_meridian(squares):
    # 0.00046 degrees is 47.8 m east-west at 21 N but 50.9 m north-south.
    offset = 0.00046
    kx, ky = metres_per_degree(LAT0 + 0.5 * SIDE)
    assert kx * offset < 50 < ky * offset
    west_of_ab = squares.assign(LAT0 + 0.5 * SIDE, LON0 + SIDE - offset, 50)
    south_of_ac = squares.assign(LAT0 + SIDE - offset, LON0 + 0.5 * SIDE, 50)
    assert west_of_ab.candidates == ("A", "B")
    assert south_of_ac.candidates == ("A",)
    # And a radius in metres is never read as degrees.
    assert squares.assign(LAT0 + 0.5 * SIDE, LON0 + 0.5 * SIDE, 0.6).candidates == ("A",)


def test_point_exactly_on_a_shared_boundary_is_in_both(squares):
    result = squares.assign(LAT0 + 0.5 * SIDE, LON0 + SIDE, 0)
    assert result.candidates == ("A", "B")
    assert result.flags == (FLAG_AMBIGUOUS,)
    assert result.commune == "A"  # equal depth (zero): the smallest code


def test_swapped_coordinates_are_recognised_and_corrected(squares):
    lat, lon = LAT0 + 0.5 * SIDE, LON0 + 1.5 * SIDE
    result = squares.assign(lon, lat, 0)  # latitude 104.015: not on Earth
    assert result.commune == "B"
    assert result.flags == (FLAG_SWAPPED,)
    assert result.method == "contained"
    assert (result.lat, result.lon) == (lat, lon)
    # Swapped and near a boundary: also ambiguous.
    kx, _ = metres_per_degree(lat)
    both = squares.assign(lat, LON0 + SIDE + 5 / kx, 20)
    swapped = squares.assign(LON0 + SIDE + 5 / kx, lat, 20)
    assert both.flags == (FLAG_AMBIGUOUS,)
    assert swapped.flags == (FLAG_SWAPPED, FLAG_AMBIGUOUS)
    assert swapped.candidates == both.candidates == ("A", "B")


def test_zero_zero_is_outside_with_a_far_nearest_commune(squares):
    result = squares.assign(0.0, 0.0, 10)
    assert result.flags == (FLAG_OUTSIDE,)
    assert result.commune is None and result.method == "unassigned"
    assert result.nearest in {"A", "B", "C", "D", "E", "F", "G"}
    expected = haversine_m(0.0, 0.0, LAT0, LON0)  # A's south-west corner is nearest
    assert result.nearest == "A"
    assert abs(result.distance_m - expected) / expected < 0.01
    assert result.candidates == ()


def test_wrong_hemisphere_is_kept_as_outside(squares):
    lat, lon = LAT0 + 0.5 * SIDE, LON0 + 0.5 * SIDE
    for bad_lat, bad_lon in ((-lat, lon), (lat, -lon)):
        result = squares.assign(bad_lat, bad_lon, 10, declared="A")
        assert result.flags == (FLAG_OUTSIDE,)
        assert (result.commune, result.method, result.nearest) == ("A", "declared", "A")
        expected = haversine_m(bad_lat, bad_lon, lat, lon)  # to A's centre, 700 m from its edges
        assert expected > 4_000_000
        assert result.distance_m == pytest.approx(expected, rel=0.01)


def test_index_from_geojson_features():
    features = [
        {"type": "Feature", "properties": {"code": code}, "geometry": shapely.geometry.mapping(square(i, 0))}
        for i, code in enumerate(["X1", "X2"])
    ]
    index = CommuneIndex.from_features(features)
    assert len(index) == 2 and "X2" in index and "A" not in index
    assert index.assign(LAT0 + 0.5 * SIDE, LON0 + 1.5 * SIDE, 0).commune == "X2"


def test_outside_point_goes_to_declared_when_too_far(squares):
    far = squares.assign(LAT0 - 0.1, LON0, 50, declared="C")  # about 11 km south of A
    assert far.flags == (FLAG_OUTSIDE,)
    assert far.commune == "C" and far.method == "declared"
    assert far.nearest == "A" and 10_000 < far.distance_m < 12_000
    unknown = squares.assign(LAT0 - 0.1, LON0, 50, declared="Z")  # not in this index
    assert unknown.commune is None and unknown.method == "unassigned"
    assert unknown.flags == (FLAG_OUTSIDE,)


def test_point_just_outside_snaps_to_the_nearest_commune(squares):
    _, ky = metres_per_degree(LAT0)
    near = squares.assign(LAT0 - 100 / ky, LON0 + 0.5 * SIDE, 10, declared="B")
    assert near.flags == (FLAG_OUTSIDE, FLAG_MISMATCH)
    assert (near.commune, near.method, near.nearest) == ("A", "nearest", "A")
    assert near.distance_m == pytest.approx(100, abs=0.05)
    beyond = squares.assign(LAT0 - 300 / ky, LON0 + 0.5 * SIDE, 10)
    assert beyond.commune is None and beyond.nearest == "A"
    assert beyond.distance_m == pytest.approx(300, abs=0.1)
    wide = squares.assign(LAT0 - 300 / ky, LON0 + 0.5 * SIDE, 400)  # radius beyond the tolerance
    assert (wide.commune, wide.method, wide.candidates) == ("A", "nearest", ("A",))


def test_point_in_a_hole_is_outside_and_snaps(squares):
    result = squares.assign(LAT0 + 0.5 * SIDE, LON0 + 4.005 * SIDE, 0)
    assert result.flags == (FLAG_OUTSIDE,)
    assert (result.commune, result.method, result.nearest) == ("E", "nearest", "E")
    kx, _ = metres_per_degree(LAT0 + 0.5 * SIDE)
    assert result.distance_m == pytest.approx(0.001 * SIDE * kx, rel=1e-4)  # the hole's half-width


def test_swapped_point_landing_in_a_hole_is_recognised(squares):
    lat, lon = LAT0 + 0.5 * SIDE, LON0 + 4.005 * SIDE  # in E's hole
    result = squares.assign(lon, lat, 0)
    assert result.flags == (FLAG_OUTSIDE, FLAG_SWAPPED)
    assert (result.commune, result.method, result.nearest) == ("E", "nearest", "E")
    assert (result.lat, result.lon) == (lat, lon)
    assert result.distance_m < 20


def test_overlap_is_ambiguous_and_deepest_wins(squares):
    # F spans columns 8-9, G 8.5-9.5: at column 8.6 the point is 0.1 square
    # inside G and 0.4 inside F.
    result = squares.assign(LAT0 + 0.5 * SIDE, LON0 + 8.6 * SIDE, 0)
    assert result.candidates == ("F", "G")
    assert result.flags == (FLAG_AMBIGUOUS,)
    assert (result.commune, result.method) == ("F", "contained")
    deeper_in_g = squares.assign(LAT0 + 0.5 * SIDE, LON0 + 9.2 * SIDE, 0)
    assert deeper_in_g.commune == "G"
    assert squares.assign(LAT0 + 0.5 * SIDE, LON0 + 8.6 * SIDE, 0, declared="G").commune == "G"


def test_mismatch_alone(squares):
    result = squares.assign(LAT0 + 0.5 * SIDE, LON0 + 0.5 * SIDE, 10, declared="D")
    assert result.commune == "A"
    assert result.flags == (FLAG_MISMATCH,)
    assert squares.assign(LAT0 + 0.5 * SIDE, LON0 + 0.5 * SIDE, 10, declared="A").flags == ()
    # A code this index does not know is no mismatch.
    assert squares.assign(LAT0 + 0.5 * SIDE, LON0 + 0.5 * SIDE, 10, declared="X").flags == ()


@pytest.mark.parametrize(
    "lat, lon",
    [(math.nan, 104.0), (21.0, math.nan), (math.nan, math.nan), (math.inf, 104.0), (21.0, -math.inf), (95.0, 200.0)],
)
def test_nan_and_impossible_coordinates_never_crash(squares, lat, lon):
    result = squares.assign(lat, lon, 10)
    assert result.flags == (FLAG_OUTSIDE,)
    assert result.nearest is None and result.distance_m is None
    assert (result.commune, result.method) == (None, "unassigned")
    declared = squares.assign(lat, lon, 10, declared="B")
    assert (declared.commune, declared.method, declared.flags) == ("B", "declared", (FLAG_OUTSIDE,))
    json.dumps(result.to_dict())


def test_nan_accuracy_is_zero(squares):
    result = squares.assign(LAT0 + 0.5 * SIDE, LON0 + SIDE, math.nan)
    assert result.candidates == ("A", "B")  # on the boundary: in both, radius 0
    assert squares.assign(LAT0 + 0.5 * SIDE, LON0 + 0.5 * SIDE, -5).candidates == ("A",)


def test_batch_api_and_dicts(squares):
    kx, _ = metres_per_degree(LAT0)
    lats = [LAT0 + 0.5 * SIDE, LAT0 + 0.5 * SIDE, 0.0, math.nan, LON0 + 1.5 * SIDE]
    lons = [LON0 + 0.5 * SIDE, LON0 + SIDE - 10 / kx, 0.0, 104.0, LAT0 + 0.5 * SIDE]
    batch = squares.assign_many(lats, lons, [10, 50, 10, 10, 0], ["A", "B", None, "C", None])
    assert len(batch) == 5
    assert batch.codes() == ["A", "B", None, "C", "B"]
    assert batch.method_names() == ["contained", "declared_tie_break", "unassigned", "declared", "contained"]
    assert batch.flag_names(1) == (FLAG_AMBIGUOUS,)
    assert batch.flag_names(4) == (FLAG_SWAPPED,)
    assert batch.primary_flags() == [None, FLAG_AMBIGUOUS, FLAG_OUTSIDE, FLAG_OUTSIDE, FLAG_SWAPPED]
    assert batch.nearest_codes()[2] == "A"
    assert batch.commune.dtype == np.int32 and batch.flags.dtype == np.uint8
    assert isinstance(batch.row(-1), Assignment)
    with pytest.raises(IndexError):
        batch.row(5)
    d = batch.row(2).to_dict()
    assert set(d) == {"commune", "method", "flag", "flags", "candidates", "nearest", "distance_m", "lat", "lon"}
    assert d["flag"] == FLAG_OUTSIDE and d["flags"] == [FLAG_OUTSIDE]
    assert d["distance_m"] == round(batch.row(2).distance_m, 1)
    assert batch.row(3).to_dict()["lat"] is None
    assert batch.row(1).to_dict()["candidates"] == ["A", "B"]
    json.dumps([row.to_dict() for row in batch])
    # One code for every point, and a scalar accuracy.
    assert squares.assign_many(lats[:2], lons[:2], 50, "B").codes() == ["A", "B"]
    assert len(squares.assign_many([], [], [])) == 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        CommuneIndex(["A", "A"], [square(0, 0), square(1, 0)])
    with pytest.raises(ValueError):
        CommuneIndex(["A"], [square(0, 0), square(1, 0)])
    with pytest.raises(ValueError):
        CommuneIndex(["A"], [shapely.Point(104, 21)])
    index = CommuneIndex(["A"], [square(0, 0)])
    with pytest.raises(ValueError):
        index.assign_many([21.0, 21.0], [104.0], 10)
    with pytest.raises(ValueError):
        index.assign_many([21.0], [104.0], 10, ["A", "B"])


def test_degree_radius_is_conservative():
    lat = np.array([0.0, 10.0, 21.0, 23.4, 60.0])
    radius = degree_radius(lat, 1000.0)
    kx, ky = metres_per_degree(lat)
    assert np.all(radius * np.minimum(kx, ky) >= 1000.0)
    assert np.all(radius * np.minimum(kx, ky) < 1010.0)


def random_square_points(rng, n):
    """Points over the squares, their edges and vertices, around and far."""
    xs = LON0 + rng.uniform(-1, 10.5, n) * SIDE
    ys = LAT0 + rng.uniform(-0.5, 2.5, n) * SIDE
    snap = rng.random(n) < 0.2  # exactly on grid lines (edges, vertices)
    xs[snap] = LON0 + np.round(rng.uniform(-1, 10.5, snap.sum()) * 2) / 2 * SIDE
    ys[snap] = LAT0 + np.round(rng.uniform(-0.5, 2.5, snap.sum()) * 2) / 2 * SIDE
    hair = rng.random(n) < 0.1  # a hair off a grid line
    xs[hair] = LON0 + np.round(rng.uniform(-1, 10.5, hair.sum())) * SIDE + rng.normal(0, 1e-9, hair.sum())
    return ys, xs


def test_assign_many_agrees_with_assign_on_squares(squares):
    rng = np.random.default_rng(7)
    lats, lons = random_square_points(rng, 3000)
    swap = rng.random(3000) < 0.05
    lats[swap], lons[swap] = lons[swap], lats[swap]
    accs = rng.choice([0.0, 5.0, 30.0, 80.0, 300.0, math.nan], 3000)
    declared = rng.choice(["A", "B", "E", "G", "Z", None], 3000).tolist()
    batch = squares.assign_many(lats, lons, accs, declared)
    assert same_rows(batch, squares, lats, lons, accs, declared) == []
    kinds = set(batch.flags.tolist())
    assert {0, 1, 2, 4, 8} <= kinds  # the sample covers every flag


@pytest.mark.parametrize("cell_m", [SIDE / 8 * 110_574.0, SIDE / 7.5 * 110_574.0, SIDE / 3 * 110_574.0, 37.0])
def test_fast_path_equals_exact_path_with_edges_on_cell_lines(squares, cell_m):
    # Raster cells whose sides (or, for 7.5 cells per square, whose centres)
    # fall on the squares' edges or a rounding error off them, and points on
    # edges, vertices and cell lines: the fast path must settle only what it
    # can settle beyond doubt.
    index = CommuneIndex(list(squares.codes), [squares.geometry(code) for code in squares.codes], cell_m=cell_m)
    rng = np.random.default_rng(int(cell_m))
    lats, lons = random_square_points(rng, 20_000)
    accs = rng.choice([0.0, 0.0, 3.0, 20.0, 60.0, 200.0], 20_000)
    declared = rng.choice(["A", "D", "F", None], 20_000).tolist()
    fast = index.assign_many(lats, lons, accs, declared)
    exact = index.assign_many(lats, lons, accs, declared, fast=False)
    for column in ("commune", "method", "flags", "nearest", "candidate_offsets", "candidate_index"):
        assert np.array_equal(getattr(fast, column), getattr(exact, column)), column
    assert np.array_equal(fast.distance_m, exact.distance_m, equal_nan=True)


# ---------------------------------------------------------------------------
# Real Son La boundaries (skipped when the files are absent)
# ---------------------------------------------------------------------------


def load(name):
    path = boundary_file(name)
    if path is None:
        pytest.skip(f"boundary file {name} not available (set BOUNDARIES_DIR or add ../shared/data)")
    features = read_features(path)
    codes = [feature["properties"]["code"] for feature in features]
    geoms = np.array([shapely.geometry.shape(feature["geometry"]) for feature in features], dtype=object)
    return codes, geoms


@pytest.fixture(scope="module")
def son_la_2024():
    codes, geoms = load(SON_LA_2024_COMMUNES)
    return CommuneIndex(codes, geoms), codes, geoms


@pytest.fixture(scope="module")
def son_la_2025():
    codes, geoms = load(SON_LA_2025_COMMUNES)
    return CommuneIndex(codes, geoms), codes, geoms


@pytest.mark.parametrize("which", ["son_la_2024", "son_la_2025"])
def test_real_point_on_surface_of_every_commune(which, request):
    index, codes, geoms = request.getfixturevalue(which)
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    batch = index.assign_many(xy[:, 1], xy[:, 0], 0)
    assert batch.codes() == codes
    assert set(batch.method_names()) == {"contained"}
    assert index.assign(xy[0, 1], xy[0, 0], 0).commune == codes[0]


def shared_boundary_point(codes, geoms):
    """A point 20 m inside commune a, next to the middle of its longest shared
    boundary with commune b; also a third commune c far from both."""
    tree = shapely.STRtree(geoms)
    pairs = tree.query(geoms, predicate="touches").T
    best = None
    for a, b in pairs[:200]:
        shared = shapely.intersection(geoms[a].boundary, geoms[b].boundary)
        length = shared.length
        if best is None or length > best[0]:
            best = (length, a, b, shared)
    _, a, b, shared = best
    line = max(shapely.get_parts(shapely.line_merge(shared)), key=lambda part: part.length)
    mid = line.interpolate(0.5, normalized=True)
    ahead = line.interpolate(0.5 + 1e-3, normalized=True)
    kx, ky = metres_per_degree(mid.y)
    # Step 20 m perpendicular to the boundary, to a's side.
    tx, ty = (ahead.x - mid.x) * kx, (ahead.y - mid.y) * ky
    norm = math.hypot(tx, ty)
    nx, ny = -ty / norm, tx / norm
    for sign in (1, -1):
        lon, lat = mid.x + sign * 20 * nx / kx, mid.y + sign * 20 * ny / ky
        if geoms[a].contains(shapely.Point(lon, lat)):
            break
    far = int(np.argmax(shapely.distance(geoms, shapely.Point(lon, lat))))
    return lat, lon, codes[a], codes[b], codes[far]


def test_real_shared_boundary_tie_break_and_mismatch(son_la_2024):
    index, codes, geoms = son_la_2024
    lat, lon, a, b, far = shared_boundary_point(codes, geoms)
    plain = index.assign(lat, lon, 5)
    assert (plain.commune, plain.flags, plain.candidates) == (a, (), (a,))
    tie = index.assign(lat, lon, 200, declared=b)
    assert tie.commune == b and tie.method == "declared_tie_break"
    assert tie.flags == (FLAG_AMBIGUOUS,)
    assert {a, b} <= set(tie.candidates)
    other = index.assign(lat, lon, 200, declared=far)
    assert other.commune == a and other.method == "contained"
    assert other.flags == (FLAG_AMBIGUOUS, FLAG_MISMATCH)
    assert far not in other.candidates
    mismatch = index.assign(lat, lon, 5, declared=far)
    assert (mismatch.commune, mismatch.flags) == (a, (FLAG_MISMATCH,))


def test_real_swapped_coordinates(son_la_2024):
    index, codes, geoms = son_la_2024
    point = shapely.point_on_surface(geoms[10])
    result = index.assign(point.x, point.y, 10)  # lat and lon exchanged
    assert result.commune == codes[10]
    assert result.flags == (FLAG_SWAPPED,)
    assert (result.lat, result.lon) == (point.y, point.x)


def test_real_zero_zero_is_outside_and_far(son_la_2024):
    index, codes, geoms = son_la_2024
    result = index.assign(0.0, 0.0, 10)
    assert result.flags == (FLAG_OUTSIDE,)
    assert result.commune is None and result.nearest in codes
    vertices = shapely.get_coordinates(geoms)
    expected = haversine_m(0.0, 0.0, vertices[:, 1], vertices[:, 0]).min()
    assert 11_000_000 < expected < 12_500_000
    assert abs(result.distance_m - expected) / expected < 0.01


def test_real_interior_hole_of_the_2024_set(son_la_2024):
    index, codes, geoms = son_la_2024
    union = shapely.union_all(geoms)
    holes = [Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors]
    assert holes, "the 2024 set is known to have interior holes"
    hole = max(holes, key=lambda h: h.area)
    point = hole.point_on_surface()
    result = index.assign(point.y, point.x, 0)
    assert result.flags == (FLAG_OUTSIDE,)
    assert result.method == "nearest" and result.commune == result.nearest
    expected = local_distance_m(point.y, point.x, union.boundary)
    assert 0 < expected < SNAP_TOLERANCE_M
    assert result.distance_m == pytest.approx(expected, abs=0.5)
    # The nearest commune really is the one whose boundary is that close.
    nearest_geom = geoms[codes.index(result.nearest)]
    assert local_distance_m(point.y, point.x, nearest_geom) == pytest.approx(expected, abs=0.5)


def test_real_overlap_of_two_2024_communes(son_la_2024):
    index, codes, geoms = son_la_2024
    tree = shapely.STRtree(geoms)
    a_idx, b_idx = tree.query(geoms, predicate="overlaps")
    overlaps = shapely.intersection(geoms[a_idx], geoms[b_idx])
    k = int(np.argmax(shapely.area(overlaps)))
    a, b = codes[a_idx[k]], codes[b_idx[k]]
    point = shapely.point_on_surface(overlaps[k])
    result = index.assign(point.y, point.x, 0)
    assert result.flags == (FLAG_AMBIGUOUS,)
    assert {a, b} <= set(result.candidates)
    depth_a = local_distance_m(point.y, point.x, geoms[a_idx[k]].boundary)
    depth_b = local_distance_m(point.y, point.x, geoms[b_idx[k]].boundary)
    assert result.commune == (a if depth_a > depth_b else b)
    assert index.assign(point.y, point.x, 0, declared=b).commune == b


def real_sample(rng, codes, geoms, n):
    """Random points over the province and around it, a third of them near
    (within 30 m of) a commune boundary, with assorted radii and declarations."""
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    k = n // 3
    lons = rng.uniform(minx - 0.05, maxx + 0.05, n)
    lats = rng.uniform(miny - 0.05, maxy + 0.05, n)
    rings = shapely.boundary(geoms[rng.integers(0, len(geoms), k)])
    on = shapely.get_coordinates(shapely.line_interpolate_point(rings, rng.uniform(0, 1, k), normalized=True))
    lons[:k] = on[:, 0] + rng.normal(0, 2e-4, k)
    lats[:k] = on[:, 1] + rng.normal(0, 2e-4, k)
    swap = rng.random(n) < 0.03
    lats[swap], lons[swap] = lons[swap], lats[swap]
    accs = rng.choice([0.0, 5.0, 15.0, 30.0, 50.0, 120.0, 600.0], n)
    declared = [codes[i] if i >= 0 else None for i in rng.integers(-len(codes), len(codes), n)]
    return lats, lons, accs, declared


def test_real_assign_many_agrees_with_assign(son_la_2024):
    index, codes, geoms = son_la_2024
    rng = np.random.default_rng(2024)
    lats, lons, accs, declared = real_sample(rng, codes, geoms, 3000)
    lats[:3] = [0.0, math.nan, 200.0]
    batch = index.assign_many(lats, lons, accs, declared)
    assert same_rows(batch, index, lats, lons, accs, declared) == []
    flags = batch.flags.tolist()
    for bit in (1, 2, 4, 8):  # every flag occurs in the sample
        assert any(f & bit for f in flags)


@pytest.mark.parametrize("which", ["son_la_2024", "son_la_2025"])
def test_real_fast_path_equals_exact_path(which, request):
    index, codes, geoms = request.getfixturevalue(which)
    rng = np.random.default_rng(11)
    lats, lons, accs, declared = real_sample(rng, codes, geoms, 30_000)
    fast = index.assign_many(lats, lons, accs, declared)
    exact = index.assign_many(lats, lons, accs, declared, fast=False)
    for column in ("commune", "method", "flags", "nearest", "lat", "lon", "candidate_offsets", "candidate_index"):
        assert np.array_equal(getattr(fast, column), getattr(exact, column)), column
    assert np.array_equal(fast.distance_m, exact.distance_m, equal_nan=True)


def test_real_metric_distance_outside_the_province(son_la_2025):
    index, codes, geoms = son_la_2025
    vertices = shapely.get_coordinates(geoms)
    west_lon, west_lat = vertices[np.argmin(vertices[:, 0])]
    lat, lon = west_lat + 0.003, west_lon - 0.015  # about 1.6 km west of the westernmost vertex
    result = index.assign(lat, lon, 100)
    assert result.flags == (FLAG_OUTSIDE,)
    distances = np.array([local_distance_m(lat, lon, g) for g in geoms])
    expected = np.nanmin(distances)
    assert 1_000 < expected < 2_000
    assert result.distance_m == pytest.approx(expected, rel=1e-4)
    assert result.nearest == codes[int(np.nanargmin(distances))]
    assert result.commune is None  # beyond max(100 m, SNAP_TOLERANCE_M)
