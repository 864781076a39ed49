"""Alembic migrations (run through Flask-Migrate: ``flask --app wsgi db upgrade``)."""
