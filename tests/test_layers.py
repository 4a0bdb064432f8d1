"""The layers point one way (DESIGN.md, "Layers"): no module of `cockpit/` imports a layer
above its own — lazy imports inside functions and `TYPE_CHECKING` blocks included.

The graph is read with `ast` from the source, not by importing it, so a lazy import that
no test happens to execute still counts. Each top-level part of the package (a
subpackage or a module of `cockpit/`) has a rank; an import must point to the same part
or to a strictly lower rank. Two parts of the same rank do not import each other either:
the design draws them side by side, not stacked.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cockpit"

# rank -> parts. The design's picture, top to bottom:
#   plan ► db · cron · journal ► probes · live ► engine ► commands · tui · watch · report
# with the order inside a band made explicit where the code stacks them (live reads the
# probes; the top band's drivers build on report, then watch/drill, then the TUI, then
# the CLI commands that launch all of them).
LAYERS: dict[int, set[str]] = {
    0: {"__init__", "text", "paths", "childenv", "operator", "faults"},  # neutral helpers, import nothing of the cockpit
    1: {"plan"},  # the pure model of phases.toml
    2: {"db", "cron", "journal"},
    3: {"probes", "sandbox"},  # read-only views of the live system; the sandbox builder over db
    4: {"live"},  # one snapshot over the probes
    5: {"engine"},
    6: {"report"},  # the Markdown log, rendered from the journal with engine.state
    7: {"watch", "drill"},
    8: {"tui"},
    9: {"commands"},
    10: {"cli"},  # the command table
    11: {"__main__"},
}

# Upward imports the code still has, each with why it is left and what would remove it.
# Keep this list short; an entry that no longer matches fails the test, so it cannot go stale.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()

RANK = {part: rank for rank, parts in LAYERS.items() for part in parts}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    """The top-level part of the package a dotted name belongs to ("__init__" for the root)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of `cockpit` in the file, at any depth."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None or node.level == 0 and target == "cockpit":
                # `from . import x` / `from cockpit import x`: each name may be a submodule
                found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "cockpit" or name.startswith("cockpit.")]


def _resolve(name: str) -> str:
    """`cockpit.x.y` as a real module or package of the tree (drops a trailing attribute)."""
    pieces = name.split(".")
    while len(pieces) > 1:
        candidate = PACKAGE.parent.joinpath(*pieces)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(pieces)
        pieces.pop()
    return "cockpit"


def _graph() -> list[tuple[str, int, str]]:
    """(importer, line, imported) over every module of `cockpit/`."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for line, name in _imports(path):
            edges.append((importer, line, _resolve(name)))
    return edges


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").exists())}
    missing = sorted(parts - set(RANK))
    assert not missing, f"cockpit parts without a layer in tests/test_layers.py LAYERS: {missing}"


def test_the_graph_sees_lazy_imports() -> None:
    """The walk must see an import inside a function, or it proves nothing."""
    edges = {(a, b) for a, _, b in _graph()}
    assert ("cockpit.commands.tui", "cockpit.tui.app") in edges  # imported inside a function
    assert ("cockpit.commands.engine_cli", "cockpit.engine") in edges


def test_no_import_points_up_a_layer() -> None:
    upward = []
    for importer, line, imported in _graph():
        src, dst = _part(importer), _part(imported)
        if src == dst:
            continue
        if RANK[dst] < RANK[src]:
            continue
        if (importer, imported) in KNOWN_EXCEPTIONS:
            continue
        relation = "up" if RANK[dst] > RANK[src] else "sideways (same layer)"
        upward.append(f"{importer} (line {line}) imports {imported}: {relation}, "
                      f"layer {RANK[src]} {src!r} -> layer {RANK[dst]} {dst!r}")
    assert not upward, "imports must point down a layer (DESIGN.md, Layers):\n" + "\n".join(upward)


def test_known_exceptions_still_exist() -> None:
    """A fixed exception is removed from the list, so the list stays honest."""
    edges = {(a, b) for a, _, b in _graph()}
    gone = sorted(KNOWN_EXCEPTIONS - edges)
    assert not gone, f"no longer imported, remove from KNOWN_EXCEPTIONS: {gone}"


def test_tui_views_do_not_import_the_app() -> None:
    """Screens and widgets are built by the app; they reach it as `self.app` at run time,
    never by importing `cockpit.tui.app` (which imports them: a cycle held apart by
    import order). Shared names live in modules of their own (tui/actions.py)."""
    back = sorted(f"{importer} (line {line})" for importer, line, imported in _graph()
                  if imported == "cockpit.tui.app" and importer.startswith("cockpit.tui."))
    assert not back, f"these import cockpit.tui.app: {back}"
