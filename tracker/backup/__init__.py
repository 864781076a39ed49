"""Backups: the database and the photos in one archive, and back again."""
