"""Boundary sets and administrative units (province → district → commune)."""
