"""Moving refs and series forward: bump, refresh onto a new ref, edit as commits."""
