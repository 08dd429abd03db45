"""No field of a class under ``src/quotaopt`` is a ``dict[str, Any]``: what crosses a seam is typed.

Stage results, summary.json / track.json / manifest.json sections and view models are
dataclasses or pydantic models (:class:`quotaopt.records.Record`) whose fields say what
they hold, so a misspelt key or a value of the wrong type is caught where it is made. The
scan reads every class body's annotated fields (dataclasses, pydantic models and any other
class, a superset of the stage results) and refuses ``dict`` / ``Dict`` / ``Mapping`` /
``MutableMapping`` of ``str`` to ``Any`` anywhere in an annotation (``list[dict[str, Any]]``
and ``"dict[str, Any] | None"`` included). Nothing is allowed by exception.
"""

from __future__ import annotations

import ast
from pathlib import Path

import quotaopt

SRC = Path(quotaopt.__file__).parent

#: Mapping types refused with ``str`` keys and ``Any`` values, by their last name (``typing.Dict`` too).
MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping"}


def _name(node: ast.expr) -> str:
    """``Any`` of ``Any`` and of ``typing.Any``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _loose(annotation: ast.expr) -> bool:
    """True where the annotation holds a mapping of ``str`` to ``Any`` anywhere inside it."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # a quoted annotation
        return _loose(ast.parse(annotation.value, mode="eval").body)
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node is not annotation:
            try:
                inner = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                continue
            if _loose(inner):
                return True
        if (isinstance(node, ast.Subscript) and _name(node.value) in MAPPINGS
                and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2):
            key, value = node.slice.elts
            if _name(key) == "str" and _name(value) == "Any":
                return True
    return False


def loose_fields(source: str, label: str) -> list[str]:
    """``label:line Class.field: annotation`` of every class field typed as a mapping of str to Any."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and _loose(stmt.annotation):
                found.append(f"{label}:{stmt.lineno} {node.name}.{stmt.target.id}: {ast.unparse(stmt.annotation)}")
    return found


def test_the_scan_finds_loose_fields() -> None:
    sample = '''
import typing
from dataclasses import dataclass
from pydantic import BaseModel

@dataclass
class Result:
    meta: dict[str, Any]
    rows: list[typing.Dict[str, typing.Any]]
    quoted: "Mapping[str, Any] | None" = None
    fine: dict[str, int] | None = None
    also_fine: Any = None

class Section(BaseModel):
    extra: MutableMapping[str, Any] | None = None
    typed: dict[str, float] = {}

def not_a_field(x: dict[str, Any]) -> dict[str, Any]:
    local: dict[str, Any] = {}
    return local
'''
    found = loose_fields(sample, "sample.py")
    assert [f.split(" ")[1].split(":")[0] for f in found] == [
        "Result.meta", "Result.rows", "Result.quoted", "Section.extra"]


def test_no_field_is_a_dict_of_any() -> None:
    found = [hit for path in sorted(SRC.rglob("*.py"))
             for hit in loose_fields(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))]
    assert not found, "fields typed as a mapping of str to Any (give them a record type):\n" + "\n".join(found)
