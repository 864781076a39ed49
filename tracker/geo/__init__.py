"""Geometry cores: boundary sources, commune assignment, synthetic boundaries.

Nothing in this package imports Flask or the database session.
"""
