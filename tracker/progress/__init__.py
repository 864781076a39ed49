"""Progress reports: roll-ups, pace, completion map data."""
