"""The package layering: the domain core imports no feature, and the features import each other in one
direction only (no cycle), so a feature can be read, changed and tested without the others."""
import ast
from pathlib import Path

SIDEBAR = Path(__file__).resolve().parent.parent / "sidebar"
FEATURES = ("insight", "materials", "sync", "identity", "jobs", "sop", "manage", "actions", "acquisition")
CORE = ("domain",)


def package_imports():
    """package -> the set of sidebar packages its modules import (at the top or inside functions)."""
    graph = {}
    for package in (*FEATURES, *CORE):
        for path in (SIDEBAR / package).rglob("*.py"):
            graph.setdefault(package, set()).update(_imported_packages(path, package))
    return graph


def _imported_packages(path, package):
    """The other sidebar packages one module imports, from its relative and absolute imports."""
    here = list(path.relative_to(SIDEBAR).with_suffix("").parts)  # e.g. ["insight", "client"]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name.split(".")[1:] for alias in node.names if alias.name.startswith("sidebar.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [node.module.split(".")[1:]] if (node.module or "").startswith("sidebar.") else []
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level]  # `from .. import x` in sidebar/insight/contact.py: sidebar
            tail = node.module.split(".") if node.module else []
            modules = [base + tail] if base or tail else []
            if not base and not tail:
                modules = [[alias.name] for alias in node.names]
        else:
            continue
        yield from (parts[0] for parts in modules if parts and parts[0] in (*FEATURES, *CORE) and parts[0] != package)


def cycle(graph):
    """One cycle of the graph as a list of packages, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    return next((found for node in sorted(graph) if node not in state and (found := visit(node, [node]))), None)


def test_the_feature_packages_import_each_other_without_a_cycle():
    assert cycle(package_imports()) is None


def test_the_domain_core_imports_no_feature():
    assert package_imports()["domain"] == set()


def test_the_sync_knows_nothing_of_the_panels():
    assert "insight" not in package_imports()["sync"], "an import tells its subscribers (profiles_imported)"


def test_the_check_sees_a_cycle_when_there_is_one():
    assert cycle({"insight": {"materials"}, "materials": {"insight"}}) == ["insight", "materials", "insight"]
    assert cycle({"insight": {"domain"}, "sync": {"domain", "insight"}, "domain": set()}) is None


if __name__ == "__main__":  # python tests/test_layering.py: print the graph
    for package, imports in sorted(package_imports().items()):
        print(f"{package} -> {', '.join(sorted(imports)) or '-'}")
    print("cycle:", cycle(package_imports()))
