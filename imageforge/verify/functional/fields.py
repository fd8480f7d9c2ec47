"""Reading the fields of a functional.yaml: each mistake names the file, line and key."""

from __future__ import annotations

from typing import Any

from imageforge.config.yamlnodes import Document


def only(document: Document, where: tuple[str, ...], data: dict, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise document.error(
                (*where, key), f"unknown key (expected one of: {', '.join(sorted(allowed))})"
            )


def strings(
    document: Document, where: tuple[str, ...], value: Any, *, empty: bool = True
) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or (not empty and not value)
        or not all(isinstance(v, (str, int)) for v in value)
    ):
        raise document.error(where, "expected a list of strings")
    return tuple(str(v) for v in value)


def optional_string(document: Document, where: tuple[str, ...], value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise document.error(where, "expected a string")
    return value


def required_string(document: Document, where: tuple[str, ...], value: Any) -> str:
    found = optional_string(document, where, value)
    if not found:
        raise document.error(where, "expected a string")
    return found


def seconds(document: Document, where: tuple[str, ...], value: Any) -> int:
    text = str(value)
    if not text.isdigit():
        raise document.error(where, "expected seconds (a number)")
    return int(text)
