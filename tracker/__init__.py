"""The housing programme tracker.

The Flask app is built by ``tracker.app.create_app``. This package root imports
nothing, so the pure cores under it (``tracker.geo``, the progress arithmetic,
``tracker.text``) load without Flask or SQLAlchemy.
"""
