"""Layout rules: imports run apps -> profiles -> hotspots; each outside library and each duty has one room.

* hotspots never imports profiles or apps;
* no import circle among the project's modules (module-level imports; ``if TYPE_CHECKING:`` blocks aside);
* no function-local import of the project's own modules in hotspots/ and profiles/ (a circle means a piece
  belongs in a lower module);
* renderers (profiles/render/) never import the disclosure module, the shared step, the readers or the
  compute stage;
* in profiles/, only profiles/shared.py imports hotspots.disclosure;
* only profiles/render/{charts,staticmaps,webmap,figures}.py import matplotlib, folium or branca;
* hotspots/grid.py is the only module importing h3 or h3ronpy (the one H3 adapter).

A rule a file breaks today is marked xfail (not strict) with the owner in the reason, until the owner fixes it.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGES = ("hotspots", "profiles")
OWN = ("hotspots", "profiles", "apps")
RENDER_FORBIDDEN = (
    "hotspots.disclosure",
    "profiles.shared",
    "hotspots.ingest",
    "hotspots.boundaries",
    "profiles.sources",
    "profiles.compute",
)
PLOTTING = ("matplotlib", "folium", "branca")
PLOTTING_MODULES = {f"profiles/render/{n}.py" for n in ("charts", "staticmaps", "webmap", "figures")}
H3 = ("h3", "h3ronpy")

# file -> reason (owner) for rules broken today; remove an entry when the owner fixes the file
KNOWN: dict[str, dict[str, str]] = {
    "local_imports": {},
    "render_imports": {},
    "disclosure_imports": {},
    "plotting_imports": {},
    "h3_imports": {},
}


def _files(*packages: str) -> list[Path]:
    return sorted(f for p in packages for f in (ROOT / p).rglob("*.py") if "__pycache__" not in f.parts)


def _rel(f: Path) -> str:
    return f.relative_to(ROOT).as_posix()


def _module_name(f: Path) -> str:
    parts = list(f.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _tree(f: Path) -> ast.Module:
    return ast.parse(f.read_text(encoding="utf-8"), filename=str(f))


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _resolve(f: Path, node: ast.ImportFrom) -> str:
    """The absolute module of a ``from ... import`` (relative imports resolved against ``f``)."""
    if not node.level:
        return node.module or ""
    base = _module_name(f).split(".")
    if f.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imported(f: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Every module an import statement names (``from a import b`` names ``a`` and ``a.b``)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
        return
    mod = _resolve(f, node)
    yield mod
    yield from (f"{mod}.{a.name}" for a in node.names)


def _walk(node: ast.AST, *, in_function: bool = False, skip_type_checking: bool = True):
    """(import node, inside a function?) for every import under ``node``, ``if TYPE_CHECKING:`` blocks skipped."""
    for child in ast.iter_child_nodes(node):
        if skip_type_checking and isinstance(child, ast.If) and _is_type_checking(child):
            for other in child.orelse:
                yield from _walk_one(other, in_function, skip_type_checking)
            continue
        yield from _walk_one(child, in_function, skip_type_checking)


def _walk_one(child: ast.AST, in_function: bool, skip_type_checking: bool):
    if isinstance(child, ast.Import | ast.ImportFrom):
        yield child, in_function
    inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
    yield from _walk(child, in_function=inner, skip_type_checking=skip_type_checking)


def _names(f: Path, *, functions: bool | None = None) -> set[str]:
    """Modules imported by ``f`` (module level only with functions=False, function bodies only with True)."""
    out: set[str] = set()
    for node, in_fn in _walk(_tree(f)):
        if functions is None or in_fn == functions:
            out.update(_imported(f, node))
    return out


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _cases(rule: str, files: list[Path]) -> list:
    known = KNOWN[rule]
    return [
        pytest.param(f, id=_rel(f), marks=pytest.mark.xfail(strict=False, reason=known[_rel(f)]))
        if _rel(f) in known
        else pytest.param(f, id=_rel(f))
        for f in files
    ]


def test_hotspots_never_imports_profiles_or_apps():
    for f in _files("hotspots"):
        bad = [m for m in _names(f) if _matches(m, ("profiles", "apps", "streamlit"))]
        assert not bad, f"{_rel(f)}: {bad}"


def _graph() -> dict[str, set[str]]:
    files = _files(*PACKAGES, "apps")
    modules = {_module_name(f): f for f in files}
    graph: dict[str, set[str]] = {}
    for name, f in modules.items():
        edges: set[str] = set()
        for node, in_fn in _walk(_tree(f)):
            if in_fn:
                continue
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names)
                continue
            mod = _resolve(f, node)  # "from pkg import sub" depends on pkg.sub, "from mod import name" on mod
            edges.update(f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names)
        graph[name] = {m for m in edges if m in modules and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        comp.append(x)
                        if x == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
            elif w not in index:
                index[w] = low[w] = counter
                counter += 1
                stack.append(w)
                on.add(w)
                work.append((w, iter(sorted(graph[w]))))
            elif w in on:
                low[v] = min(low[v], index[w])
    return out


def test_cycle_finder_finds_a_planted_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    cycles = _cycles(_graph())
    assert not cycles, f"import circles among the project's modules: {cycles}"


@pytest.mark.parametrize("f", _cases("local_imports", _files(*PACKAGES)))
def test_no_function_local_imports_of_own_modules(f):
    bad = sorted(m for m in _names(f, functions=True) if _matches(m, OWN))
    bad = [m for m in bad if not any(o.startswith(m + ".") for o in bad)]  # "a" and "a.b": report "a.b"
    assert not bad, f"{_rel(f)} imports the project's own modules inside functions: {bad}"


@pytest.mark.parametrize("f", _cases("render_imports", _files("profiles/render")))
def test_renderers_import_no_reader_disclosure_or_compute(f):
    bad = sorted(m for m in _names(f) if _matches(m, RENDER_FORBIDDEN))
    assert not bad, f"{_rel(f)} (a renderer) imports {bad}"


@pytest.mark.parametrize("f", _cases("disclosure_imports", _files("profiles", "apps")))
def test_only_shared_imports_disclosure(f):
    if _rel(f) == "profiles/shared.py":
        return
    tree = _tree(f)
    via_package = {
        a.name
        for node, _ in _walk(tree)
        if isinstance(node, ast.ImportFrom) and _resolve(f, node) == "hotspots"
        for a in node.names
    } & {"audit_table", "suppress_cells", "suppress_series", "suppress_table"}
    bad = sorted(m for m in _names(f) if _matches(m, ("hotspots.disclosure",))) + sorted(via_package)
    assert not bad, f"{_rel(f)} imports disclosure control ({bad}); only profiles/shared.py may"


@pytest.mark.parametrize("f", _cases("plotting_imports", _files(*PACKAGES)))
def test_only_plot_modules_import_plotting(f):
    if _rel(f) in PLOTTING_MODULES:
        return
    bad = sorted(m for m in _names(f) if _matches(m, PLOTTING))
    assert not bad, f"{_rel(f)} imports {bad}; only {sorted(PLOTTING_MODULES)} may"


@pytest.mark.parametrize("f", _cases("h3_imports", _files(*PACKAGES, "apps")))
def test_only_grid_imports_h3(f):
    if _rel(f) == "hotspots/grid.py":
        return
    bad = sorted(m for m in _names(f) if _matches(m, H3))
    assert not bad, f"{_rel(f)} imports {bad}; use hotspots.grid (the one H3 adapter)"


def test_rules_see_function_local_and_type_checking_imports():
    src = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import profiles.shared\n"
        "import hotspots.grid\n"
        "def f():\n    from profiles import numbers\n    import h3\n"
    )
    f = ROOT / "profiles" / "_layout_probe.py"
    _tree.cache_clear()
    try:
        f.write_text(src, encoding="utf-8")
        assert _names(f, functions=False) == {"typing", "typing.TYPE_CHECKING", "hotspots.grid"}
        assert _names(f, functions=True) == {"profiles", "profiles.numbers", "h3"}
    finally:
        f.unlink()
        _tree.cache_clear()
