"""The sync protocol: phones push and pull household records and photos."""
