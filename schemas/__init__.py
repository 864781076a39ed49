"""Marshmallow schemas: every payload in and out of the API.

Schemas validate and shape data; they know nothing of the database.
"""
