"""Plans: per-commune targets, revised over time."""
