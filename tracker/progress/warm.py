"""What every worker's first report and map need, done when the worker starts rather than in a request.

A national set's units (11,163 communes), its plan's targets and the map
outlines at the zooms a map opens at (the country, and the default) cost a
worker tens of milliseconds on its first report or map, which an official
opening the dashboard after a restart would wait for. So did everything a
process does once only: each statement compiled on its first use, each
code path's first run. gunicorn
calls :func:`warm` in each worker before it takes requests
(``gunicorn.conf.py``): it loads those, then gives itself today's commune
report and communes map through the API's own code, so that today's
answers are in the worker's memory (and the map stored for the others)
and any other date's first answer runs on code already warm. A worker
whose database is away still starts: it loads them on first need instead.
"""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from schemas.progress import MAP_ZOOM, NATIONAL_ZOOM
from sync.vocabulary import today
from tracker.boundaries.outlines import outlines
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.progress import answers
from tracker.progress.context import resolve
from tracker.progress.counting import plan_targets, set_units

log = logging.getLogger(__name__)
WARM_ZOOMS = (NATIONAL_ZOOM, MAP_ZOOM)  # the outlines loaded at start: the whole country, and the default


def warm(app: Flask) -> bool:
    """Load the set in force today, its plan targets and map outlines, and build today's answers; True when done."""
    with app.app_context():
        try:
            ctx = resolve(today(), utcnow())
            set_units(ctx.boundary_set)
            if ctx.revision is not None:
                plan_targets(ctx.revision)
            for zoom in WARM_ZOOMS:
                outlines(ctx.boundary_set, zoom)
            answers.progress_json(ctx, "commune", now=True)
            answers.communes_map(ctx, MAP_ZOOM, now=True)  # stored for the other workers too
            return True
        except ApiError:  # no set loaded yet
            return False
        except SQLAlchemyError as exc:
            log.warning("worker not warmed, the database did not answer: %s", exc)
            return False
        finally:
            db.session.remove()
