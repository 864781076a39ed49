"""Household records: the unit of work, kept with every revision."""
