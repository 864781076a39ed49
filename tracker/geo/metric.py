"""Metres and degrees on the WGS 84 ellipsoid.

Distances are metres, never degrees.  A degree of longitude shrinks with
latitude (111.3 km at the equator, 103 km at Son La's 21.5 N) and a degree of
latitude is 110.6 to 111.7 km, so no fixed number of degrees is a radius in
metres.  Two tools:

* Searching turns a metric radius into a conservative degree radius
  (:func:`degree_radius`): metres divided by the fewest metres per degree in
  any direction anywhere the search can reach.  Every polygon within ``r``
  metres is then certainly within the degree radius; the search may return a
  few extra ones, never miss one.
* Measuring uses the ellipsoid's metres per degree of longitude and of
  latitude at the point itself (:func:`metres_per_degree`), applied to the
  straight lon/lat edges near it.  That linear map keeps the published edges
  straight, so a point outside a polygon is never measured as inside it, and
  it matches the ellipsoidal distance to about 0.01 % over a couple of
  kilometres (the scale drifts by that much across such a distance).  A
  projected copy of the polygons would not do: it bends the published edges
  by centimetres, enough to put a point on the wrong side of one.

Far from every boundary, :data:`GEOD` gives the geodesic distance.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyproj import Geod

# WGS 84.
_A = 6_378_137.0
_E2 = 6.694_379_990_14e-3
GEOD = Geod(ellps="WGS84")
# Fewest metres per degree of latitude (the meridian at the equator,
# 110,574.3 m) and of longitude at the equator (111,319.5 m, times cos(lat)
# elsewhere), rounded down, used with a further safety factor; most metres
# per degree in any direction (the meridian at the poles, 111,693.9 m).
M_PER_DEG_LAT_MIN = 110_574.0
_M_PER_DEG_LON_EQ = 111_319.0
M_PER_DEG_MAX = 111_700.0
_RADIUS_SAFETY = 0.999


def degree_radius(lat: Any, radius_m: Any) -> np.ndarray:
    """A search radius in degrees that surely covers ``radius_m`` metres.

    Along any path the ellipsoidal length is at least ``m_min`` times the
    path's Euclidean length in the (lon, lat) plane, where ``m_min`` is the
    fewest metres per degree in any direction at any latitude the path
    reaches.  A path of at most ``radius_m`` metres stays within
    ``radius_m / 110,574`` degrees of its start latitude, so dividing by
    ``m_min`` there gives a degree radius holding every point within
    ``radius_m`` metres (not across the antimeridian or at the poles, neither
    of which concerns Vietnam).
    """
    lat = np.abs(np.asarray(lat, dtype=float))
    radius_m = np.asarray(radius_m, dtype=float)
    reach = np.minimum(lat + radius_m / M_PER_DEG_LAT_MIN, 89.999)
    per_deg = np.minimum(M_PER_DEG_LAT_MIN, _M_PER_DEG_LON_EQ * np.cos(np.radians(reach)))
    return radius_m / (per_deg * _RADIUS_SAFETY)


def metres_per_degree(lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Metres per degree of longitude and of latitude at ``lat`` (WGS 84)."""
    phi = np.radians(np.asarray(lat, dtype=float))
    w2 = 1.0 - _E2 * np.sin(phi) ** 2
    to_rad = math.pi / 180.0
    along_parallel = _A / np.sqrt(w2) * np.cos(phi) * to_rad
    along_meridian = _A * (1.0 - _E2) / (w2 * np.sqrt(w2)) * to_rad
    return along_parallel, along_meridian

