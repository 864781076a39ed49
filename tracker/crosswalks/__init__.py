"""Crosswalks between boundary sets: stored, checked, carried across."""
