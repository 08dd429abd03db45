"""The shape of the package: layers without cycles, the disk only in ``io/``, the public API.

The layering itself (which package may import which) is the import-linter contract in
pyproject.toml, run by ``make lint``; here: no module imports itself round a cycle, and
no module outside ``io/`` writes a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

import quotaopt

SRC = Path(quotaopt.__file__).parent

#: Calls that create, change or remove something on disk, by attribute name.
WRITING_METHODS = {"write_text", "write_bytes", "mkdir", "makedirs", "touch", "unlink", "rmdir", "rmtree",
                   "symlink_to", "hardlink_to", "to_parquet", "to_excel", "to_feather", "to_pickle", "to_hdf",
                   "to_sql", "to_stata", "savefig", "NamedTemporaryFile", "mkdtemp", "mkstemp",
                   "TemporaryDirectory"}
#: Module functions that do the same.
WRITING_FUNCTIONS = {("os", "replace"), ("os", "rename"), ("os", "remove"), ("os", "mkdir"), ("os", "makedirs"),
                     ("shutil", "copy"), ("shutil", "copyfile"), ("shutil", "copytree"), ("shutil", "move"),
                     ("shutil", "rmtree")}
#: Writing calls that leave no output behind (path, call): why each is allowed.
ALLOWED = {
    ("report/charts.py", "savefig"): "an io.BytesIO buffer",
    ("allocation/backends/pulp_cbc.py", "TemporaryDirectory"): "the CBC binary's scratch files, removed with it",
}


def _mode(call: ast.Call) -> str:
    args = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "mode")]
    return next((a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)), "r")


def writes(source: str) -> list[tuple[int, str]]:
    """(line, call) of every call in ``source`` that opens a file for writing or changes the disk."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if name == "open" and any(c in _mode(node) for c in "wax+"):
            found.append((node.lineno, f"open(..., {_mode(node)!r})"))
        elif name in WRITING_METHODS or (owner, name) in WRITING_FUNCTIONS:
            found.append((node.lineno, name))
        elif name == "to_csv" and (node.args or any(k.arg == "path_or_buf" for k in node.keywords)):
            found.append((node.lineno, "to_csv(path)"))
    return found


def test_the_scan_finds_writes() -> None:
    source = ("from pathlib import Path\nimport os\nopen('a', 'w')\nPath('b').write_text('x')\n"
              "os.replace('c', 'd')\nframe.to_csv('e')\nopen('f')\nframe.to_csv()\nopen('g', mode='ab')\n")
    assert [line for line, _ in writes(source)] == [3, 4, 5, 6, 9]


def test_only_io_writes_files() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("io/"):
            continue
        for line, call in writes(path.read_text(encoding="utf-8")):
            if (rel, call) not in ALLOWED:
                offenders.append(f"src/quotaopt/{rel}:{line}: {call}")
    assert not offenders, "only quotaopt.io may write to disk:\n" + "\n".join(offenders)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_cycle() -> None:
    graph = grimp.build_graph("quotaopt", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]


@pytest.mark.parametrize("name", quotaopt.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(quotaopt, name) is not None
