"""Users, their areas, devices and API tokens."""
