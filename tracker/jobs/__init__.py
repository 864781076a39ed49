"""Slow work as jobs: exports, thumbnails, re-assignment, tally rebuilds.

A job is a row of ``jobs`` (kind, arguments, owner, status, progress, result
or reason), so any application server sees it. With ``REDIS_URL`` set the row's
id goes to a Dramatiq queue on Redis and ``flask jobs worker`` runs it; without
it the same job runs in-process when it is started (:mod:`tracker.jobs.queue`).
"""
