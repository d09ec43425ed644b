"""The package's layout: layers import one way, no import circles, every module declares its API."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ipysvs"

# what each layer may import, besides itself and the signal path (the top-level modules and models/)
ALLOWED = {
    "signal": set(),
    "interactive": set(),
    "research": {"interactive"},
    "widgets": {"interactive"},
    "cli": {"interactive", "research"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    """``signal`` for top-level modules and ``models``, else the subpackage's name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "signal"


def imported_modules(path: Path) -> set[str]:
    """Every ``ipysvs`` module ``path`` imports, at module level or inside functions (the imports under
    ``if TYPE_CHECKING:`` excepted: they never run)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in ast.walk(node)
    }
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("ipysvs"))
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            prefix = ".".join([*base, *([node.module] if node.module else [])])
            if prefix.startswith("ipysvs"):
                found.add(prefix)
                found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for target in imported_modules(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and "." in target and not name.startswith(target + "."):
                targets.add(target)
        graph[name] = targets
    return graph


def test_no_import_circles() -> None:
    graph = import_graph()
    state: dict[str, str] = {}
    circles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                circles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not circles


def test_layers_import_one_way() -> None:
    breaks = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if module != "ipysvs"  # the package itself composes the layers
        for target in targets
        if layer(target) not in {"signal", layer(module), *ALLOWED[layer(module)]}
    ]
    assert not breaks


def test_the_session_knows_no_screen() -> None:
    graph = import_graph()
    assert not {
        target for target in graph["ipysvs.interactive.session"] if target.startswith("ipysvs.widgets")
    }


def test_the_graph_holds_known_imports() -> None:
    # the checks above would pass on a graph they cannot read: make sure they read this one
    graph = import_graph()
    assert "ipysvs.interactive.session" in graph["ipysvs.widgets"]  # registers the display
    assert "ipysvs.separation" in graph["ipysvs.analysis"]
    assert "ipysvs.interactive.session" not in graph["ipysvs.widgets.editor"]  # type hints only
    assert layer("ipysvs.research.training") == "research" and layer("ipysvs.models.joint") == "signal"


# a subpackage's __init__ documents its modules; __main__ runs the command
MODULES = [
    path
    for path in sorted(PACKAGE.rglob("*.py"))
    if path.name not in ("__init__.py", "__main__.py")
    or (path.parent == PACKAGE and path.name == "__init__.py")
]


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_every_module_declares_what_it_exports(path: Path) -> None:
    module = importlib.import_module(module_name(path))
    exported = getattr(module, "__all__", None)
    assert exported, f"{module_name(path)} has no __all__"
    assert [name for name in exported if not hasattr(module, name)] == []


def python_output(code: str) -> str:
    """What ``code`` prints in a fresh interpreter (so that nothing is imported beforehand)."""
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_importing_the_package_and_its_command_loads_no_torch() -> None:
    loaded = python_output(
        "import sys, ipysvs, ipysvs.cli\n"
        "ipysvs.cli.build_parser(['separate', 'song.wav']).parse_args(['separate', 'song.wav'])\n"
        "ipysvs.cli.build_parser(['--help'])\n"
        "ipysvs.IpysvsError, ipysvs.Trajectory\n"
        "print(sorted(name for name in ('torch', 'distributed', 'ipysvs.research', 'ipysvs.cli.train')"
        " if name in sys.modules))"
    )
    assert loaded == "[]"


def test_the_lazy_names_are_the_public_ones() -> None:
    import ipysvs

    assert sorted(ipysvs.__all__) == sorted(ipysvs._EXPORTS)


def test_public_names_and_modules_load_on_first_use() -> None:
    shown = python_output(
        "import ipysvs\n"
        "import ipysvs.interactive.session as session\n"
        "before = session._display is None\n"
        "ipysvs.open\n"
        "from ipysvs import discard_unsaved\n"
        "from ipysvs.interactive.journal import discard\n"
        "try:\n"
        "    ipysvs.no_such_name\n"
        "except AttributeError as error:\n"
        "    missing = str(error)\n"
        "registered = session._display is not None\n"
        "print(before, registered, discard_unsaved is discard, ipysvs.demo.__name__, missing)"
    )
    assert shown == "True True True ipysvs.demo module 'ipysvs' has no attribute 'no_such_name'"
