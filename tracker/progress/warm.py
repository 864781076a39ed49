"""What every worker's first report and map need, loaded when the worker starts rather than in a request.

A national set's units (11,163 communes), its plan's targets and the map
outlines at the zoom a map opens at cost a worker tens of milliseconds on
its first report or map, which an official opening the dashboard after a
restart would wait for. gunicorn calls :func:`warm` in each worker before
it takes requests (``gunicorn.conf.py``). A worker whose database is away
still starts: it loads them on first need instead.
"""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from schemas.progress import MAP_ZOOM
from sync.vocabulary import today
from tracker.boundaries.outlines import outlines
from tracker.dbtypes import utcnow
from tracker.errors import ApiError
from tracker.extensions import db
from tracker.progress.context import resolve
from tracker.progress.counting import plan_targets, set_units

log = logging.getLogger(__name__)


def warm(app: Flask) -> bool:
    """Load the units, plan targets and map outlines of the set in force today; True when loaded."""
    with app.app_context():
        try:
            ctx = resolve(today(), utcnow())
            set_units(ctx.boundary_set)
            if ctx.revision is not None:
                plan_targets(ctx.revision)
            outlines(ctx.boundary_set, MAP_ZOOM)
            return True
        except ApiError:  # no set loaded yet
            return False
        except SQLAlchemyError as exc:
            log.warning("worker not warmed, the database did not answer: %s", exc)
            return False
        finally:
            db.session.remove()
