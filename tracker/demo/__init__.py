"""The Son La demo: a realistic 2025 plan and household records made by code.

``generate`` holds pure, seeded functions (no Flask, no database), so the same
seed always yields the same demo and the tests can check its realism.
"""
