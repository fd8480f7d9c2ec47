"""Upstream sources: bare mirrors per URL, refs resolved to commits, pbr versions."""
