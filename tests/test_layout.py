"""Imports run apps -> profiles -> hotspots, never back; only the map and chart modules import plotting."""

from __future__ import annotations

import ast

from conftest import ROOT


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_hotspots_never_imports_profiles_or_apps():
    for f in (ROOT / "hotspots").rglob("*.py"):
        bad = [m for m in _imports(f) if m.split(".")[0] in ("profiles", "apps", "streamlit")]
        assert not bad, f"{f}: {bad}"


def test_only_maps_module_imports_plotting():
    for pkg in ("hotspots", "profiles"):
        for f in (ROOT / pkg).rglob("*.py"):
            if f.parent.name == "profiles" and f.name in ("maps.py", "charts.py", "webmap.py"):
                continue
            bad = [m for m in _imports(f) if m.split(".")[0] in ("folium", "matplotlib", "branca")]
            assert not bad, f"{f}: {bad}"
