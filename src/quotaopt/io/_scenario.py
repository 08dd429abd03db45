"""Reading scenario files: safe YAML, ``extends`` chains, then the validated :class:`Scenario`.

``extends`` is confined: the parent must be a ``.yaml``/``.yml`` regular file inside the
folder of the scenario named on the command line (or below it), at most
:data:`MAX_EXTENDS` files deep, without cycles. A scenario cannot make quotaopt open
an arbitrary file, and an error found in a parent names that file and the key, never
the content of a line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from quotaopt.errors import InputError, Problem
from quotaopt.io._fsguard import regular_file_problem
from quotaopt.scenario import (
    Scenario,
    deep_merge,
    refuse_unknown_keys,
    validate_scenario,
)

#: Most files in one extends chain (the scenario itself included).
MAX_EXTENDS = 32
YAML_SUFFIXES = (".yaml", ".yml")
def read_yaml(path: Path, label: str) -> dict[str, Any]:
    """One YAML file as a mapping (safe loader), or an :class:`InputError` naming ``label``."""
    import yaml

    problem = regular_file_problem(path, label)
    if problem is not None:
        raise InputError([problem])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(label, f"scenario file not found: {path}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(label, f"cannot read scenario file: {exc}")]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem_text = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError([Problem(label, f"not valid YAML: {problem_text}", row=row)]) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError([Problem(label, f"expected a mapping of keys, got {type(raw).__name__}")])
    return raw


def _parent_path(child: Path, parent: object, root: Path, chain: list[Path]) -> Path:
    """Where ``extends: parent`` of ``child`` points, after every confinement check."""
    label = str(child)
    if not isinstance(parent, str) or not parent.strip():
        raise InputError([Problem(label, "extends must be a file path (a .yaml file beside this one)",
                                  column="extends")])
    shown = parent if len(parent) <= 120 else parent[:117] + "..."
    target = (child.parent / parent).resolve()
    if not target.is_relative_to(root):
        raise InputError([Problem(label, f"extends must name a file inside {root} (the scenario's folder), got "
                                  f"{shown!r}", column="extends")])
    if target.suffix.lower() not in YAML_SUFFIXES:
        raise InputError([Problem(label, f"extends must name a .yaml or .yml file, got {shown!r}", column="extends")])
    if target in chain:
        raise InputError([Problem(label, f"extends forms a cycle through {target}", column="extends")])
    if len(chain) >= MAX_EXTENDS:
        raise InputError([Problem(label, f"extends chain is deeper than {MAX_EXTENDS} files (expected a short "
                                  "chain of base scenarios)", column="extends")])
    if not target.exists():
        raise InputError([Problem(label, f"extends names a file that does not exist: {shown}", column="extends")])
    return target


def read_with_extends(path: Path, check_parent: Callable[[dict[str, Any], str], None] | None = None
                      ) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """Read ``path`` and the files it extends, merged (the file's own keys win).

    Parameters
    ----------
    path : Path
        The scenario file (resolved).
    check_parent : callable, optional
        ``check_parent(raw, label)`` for every parent file, e.g. to refuse its unknown
        keys under its own name before they are merged into the child.

    Returns
    -------
    raw : dict
        The merged mapping (``extends`` removed). A parent's relative ``data`` path is
        made absolute against the parent's folder; the file's own stays relative.
    chain : tuple of Path
        The file and its parents, nearest first (for the manifest's input hashes).
    """
    root = path.parent
    chain = [path]
    layers = [read_yaml(path, str(path))]
    while (parent := layers[-1].pop("extends", None)) is not None:
        target = _parent_path(chain[-1], parent, root, chain)
        raw = read_yaml(target, str(target))
        if check_parent is not None:
            check_parent({k: v for k, v in raw.items() if k != "extends"}, str(target))
        if isinstance(raw.get("data"), str):
            raw["data"] = str((target.parent / raw["data"]).resolve())
        chain.append(target)
        layers.append(raw)
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return merged, tuple(chain)


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read a scenario file, apply ``extends`` and ``overrides``, and validate it.

    Parameters
    ----------
    path : str or Path
        The YAML scenario file.
    overrides : dict, optional
        Deep-merged over the file (for notebooks and what-if runs).

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        The file is missing or not YAML, or a key is unknown or bad (each named by its path).

    Examples
    --------
    >>> from quotaopt import load_scenario
    >>> scenario = load_scenario("scenarios/example.yaml", {"simulation": {"draws": 500}})
    >>> scenario.name, scenario.plan_year, scenario.simulation.draws
    ('example', 2027, 500)
    """
    path = Path(path).resolve()
    raw, chain = read_with_extends(path, check_parent=refuse_unknown_keys)
    raw.setdefault("name", path.stem)
    if overrides:
        raw = deep_merge(raw, overrides)
    scenario = validate_scenario(raw, label=str(path), base_dir=path.parent)
    return scenario.model_copy(update={"source": path, "sources": tuple(chain)})
