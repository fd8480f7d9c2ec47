"""Checks and records of built images: smoke and policy checks, the SBOM."""
