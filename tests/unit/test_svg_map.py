"""The server-side map renderer: pure functions, no app, no database."""
from __future__ import annotations

import re
from pathlib import Path

from shapely.geometry import Polygon, box

from tracker.web import svgmap
from tracker.web.svgmap import Point, build_base_map, percent_class, render_map

CSS = Path(__file__).resolve().parents[2] / "tracker" / "web" / "static" / "app.css"


def _two() -> list[tuple[str, str, Polygon]]:
    return [("1", "Xã Một", box(104.0, 21.0, 104.1, 21.1)), ("2", "Xã <Hai>", box(104.1, 21.0, 104.2, 21.1))]


def test_percent_classes_cover_the_scale() -> None:
    assert [percent_class(v) for v in (None, 0, 24.99, 25, 74.99, 99.99, 100, 130)] == \
        ["pn", "p0", "p0", "p1", "p2", "p3", "p4", "p4"]
    assert percent_class(float("nan")) == "pn"


def test_projection_keeps_the_shape_and_fits_the_width() -> None:
    base = build_base_map(_two(), width=1000)
    assert base.width == 1000
    # 0.2° of longitude at 21° N is 0.187° of latitude-equivalent: the box is wider than tall
    assert 400 < base.height < 550
    x0, y0 = base.projection.xy(104.0, 21.1)
    x1, y1 = base.projection.xy(104.2, 21.0)
    assert 0 <= x0 < 10 and 990 < x1 <= 1000 and 0 <= y0 < 10 and y1 <= base.height


def test_paths_are_compact_relative_integers() -> None:
    base = build_base_map(_two(), width=1000)
    path = base.shape("1").path
    assert re.fullmatch(r"M\d+ \d+l[-\d ]+z", path), path
    assert "." not in path


def _neighbours() -> tuple[Polygon, Polygon]:
    """Two communes sharing a finely zig-zagging border (exactly the same vertices)."""
    border = [(104.1 + (0.0001 if i % 2 else 0), 21.0 + i * 0.001) for i in range(101)]
    left = Polygon([(104.0, 21.0), *border, (104.0, border[-1][1])])
    right = Polygon([(104.2, 21.0), (104.2, border[-1][1]), *reversed(border)])
    return left, right


def test_shared_borders_survive_simplification() -> None:
    wiggly, right = _neighbours()
    base = build_base_map([("a", "A", wiggly), ("b", "B", right)], width=500, tolerance=1.0)
    assert base.stats["coordinates_after"] < base.stats["coordinates_before"] / 2


def test_render_links_titles_classes_and_escapes_names() -> None:
    base = build_base_map(_two())
    svg = render_map(base, classes={"1": "p3"}, titles={"2": "Xã <Hai>: 10 %"}, links={"1": "/map?commune=1&x=1"},
                     selected="1", label="Bản đồ")
    assert svg.startswith('<svg id="map" class="map"') and svg.endswith("</svg>")
    assert '<a href="/map?commune=1&amp;x=1"><path class="p3 sel" data-code="1"' in svg
    assert "<title>Xã &lt;Hai&gt;: 10 %</title>" in svg
    assert 'class="pn" data-code="2"' in svg, "unknown communes are drawn as 'no plan'"
    assert 'class="selo"' in svg and 'aria-label="Bản đồ"' in svg


def test_points_are_grouped_by_class_and_off_map_points_dropped() -> None:
    base = build_base_map(_two())
    svg = render_map(base, classes={}, points=[Point(104.05, 21.05, "s2"), Point(104.15, 21.05, "s2"),
                                                Point(104.15, 21.02, "s1"), Point(0.0, 0.0, "s1"),
                                                Point(float("nan"), 21.0, "s0")])
    groups = dict(re.findall(r'<path class="(s\d)" d="([^"]+)"', svg))
    assert groups["s2"].count("h0") == 2 and groups["s1"].count("h0") == 1 and "s0" not in groups
    assert re.search(r'class="halo" d="[^"]+"', svg).group(0).count("h0") == 3


def test_zoom_to_one_commune() -> None:
    base = build_base_map(_two())
    svg = render_map(base, classes={}, only={"2"})
    assert 'data-code="1"' not in svg and 'data-code="2"' in svg
    x, y, w, h = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    assert x > 400 and w < 700


def test_empty_set_draws_an_empty_map() -> None:
    base = build_base_map([])
    assert render_map(base, classes={}).count("<path") == 0


def test_stylesheet_has_every_colour_class() -> None:
    css = CSS.read_text("utf-8")
    for rule in svgmap.stylesheet_rules().splitlines():
        assert rule in css, rule


def test_coverage_simplification_leaves_no_gap_between_neighbours() -> None:
    wiggly, right = _neighbours()
    simplified = svgmap._simplify([wiggly, right], 0.001)
    assert simplified[0].intersection(simplified[1]).length > 0.09, "the shared border stays shared"
