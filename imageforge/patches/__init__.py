"""Patch series: on disk, linted, checked without a checkout, applied into exports."""
