"""How the forge shows tables to people: aligned columns, no borders, grep-friendly."""

from __future__ import annotations


def format_table(rows: list[list[str]]) -> str:
    """``rows`` (the first one the header) as left-aligned columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
