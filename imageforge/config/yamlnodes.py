"""Read YAML into plain Python values, keeping the line of every key path.

PyYAML's own loaders are not used for two reasons:

* they silently keep the last of two duplicate keys, and a duplicated
  service must be an error;
* they turn plain scalars such as ``2025.2`` or ``28.0`` into floats, which
  would mangle release names and git refs (``2025.10`` would become
  ``2025.1``). Here every scalar stays the text it was written as, except
  ``true``/``false`` and ``null``/``~``, so a ref of the wrong type can still
  be told apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from imageforge.errors import ManifestError

KeyPath = tuple[str, ...]

_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def format_path(path: KeyPath) -> str:
    return ".".join(path) if path else "(top level)"


@dataclass
class Document:
    """A YAML document as plain values, with the line where each path starts."""

    file: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def error(self, path: KeyPath, message: str) -> ManifestError:
        """A one-line error naming the file, the line (when known) and the key path."""
        line = self._line_of(path)
        where = f"{self.file}:{line}" if line else f"{self.file}"
        return ManifestError(f"{where}: {format_path(path)}: {message}")

    def _line_of(self, path: KeyPath) -> int | None:
        # A missing key has no line of its own: point at its closest parent.
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)


def load_document(file: Path) -> Document:
    """Parse ``file``; syntax errors, duplicate keys and empty files become ManifestErrors."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ManifestError(f"{file}: file not found") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError(f"{file}: cannot be read: {err}") from err
    try:
        _refuse_anchors(file, text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = err.problem or err.context or "invalid YAML"
        raise ManifestError(f"{file}{line}: invalid YAML: {problem}") from err
    except yaml.YAMLError as err:
        raise ManifestError(f"{file}: invalid YAML: {err}") from err
    if node is None:
        raise ManifestError(f"{file}: the file is empty")
    document = Document(file=file, data=None)
    document.data = _to_python(node, (), document)
    return document


def _refuse_anchors(file: Path, text: str) -> None:
    """Anchors, aliases and merge keys are refused before anything is built from them.

    The manifest has no use for them, and nested aliases expand exponentially
    (nine levels of a "billion laughs" took 3 GB in 20 s). The events are
    read as a stream, so a refused file costs no more than its own length.
    """
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        anchored = isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)
        merge = isinstance(event, yaml.ScalarEvent) and event.value == "<<" and event.style is None
        if anchored or merge:
            what = "merge keys (<<)" if merge else "anchors and aliases (&, *)"
            line = event.start_mark.line + 1 if event.start_mark else 0
            raise ManifestError(
                f"{file}:{line}: YAML {what} are not allowed here: write the values out"
            )


def _to_python(node: yaml.Node, path: KeyPath, document: Document) -> Any:
    document.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise document.error(path, "keys must be plain strings")
            key = key_node.value
            child = (*path, key)
            if key in result:
                line = key_node.start_mark.line + 1
                raise ManifestError(
                    f"{document.file}:{line}: {format_path(child)}: duplicate key {key!r}"
                )
            document.lines[child] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, child, document)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, str(i)), document) for i, item in enumerate(node.value)]
    if node.tag == _BOOL:
        return node.value.lower() in ("true", "yes", "on")
    if node.tag == _NULL:
        return None
    return node.value
