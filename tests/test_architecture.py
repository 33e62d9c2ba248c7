"""The import graph of `memtrain_data`: data flows one way, so no module imports a stage above
its own and no import cycle exists. Read from the source with `ast`.

Between stages every import counts, lazy ones inside functions too (a lazy import is still a
dependency). Between modules no cycle is allowed either, lazy imports counted, with one
exception: the eval task registry imports its built-in tasks lazily, and they register
themselves with it."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "memtrain_data"

# Stages from the bottom up; a module may import its own stage and any stage below it, never one
# above or beside it. The foundation holds what every stage shares (records, settings, errors,
# statistics, models); `agent` is the memory agent that `eval` and `train` run.
STAGES: list[set[str]] = [
    {"(package)", "errors", "config", "records", "stats", "progress", "features", "schemas", "resources",
     "models", "nlp", "build_config", "output_folder", "processes", "paper", "atomic"},
    {"pipeline"},
    {"pool"},
    {"episodes"},
    {"publish"},
    {"build", "agent"},
    {"eval"},
    {"train"},
]  # fmt: skip
# Foundation modules import one another (e.g. build_config → config); cycles among them are still refused.
SHARED_RANK = 0


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_time_nodes(body: list[ast.stmt]) -> list[ast.AST]:
    """Statements run when the module is imported: not function bodies, not `if TYPE_CHECKING:`."""
    nodes: list[ast.AST] = []
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
            nodes += _import_time_nodes(statement.orelse)
            continue
        nodes.append(statement)
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list):
                nodes += _import_time_nodes([s for s in inner if isinstance(s, ast.stmt)])
                for handler in inner:
                    if isinstance(handler, ast.ExceptHandler):
                        nodes += _import_time_nodes(handler.body)
    return nodes


def imports_of(path: Path, *, import_time_only: bool = False) -> set[str]:
    """memtrain_data modules `path` imports (absolute or relative): anywhere, or at import time only."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _import_time_nodes(tree.body) if import_time_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("memtrain_data"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("memtrain_data"):
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def import_graph(*, import_time_only: bool = False) -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target in imports_of(path, import_time_only=import_time_only):
            # `from memtrain_data.x import y` names module x.y when y is a module, else module x
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(package)"


def rank_of(stage: str) -> int:
    for rank, stages in enumerate(STAGES):
        if stage in stages:
            return rank
    raise AssertionError(f"stage '{stage}' is not placed in STAGES of tests/test_architecture.py; place it")


def test_every_module_belongs_to_a_known_stage() -> None:
    for module in import_graph():
        rank_of(stage_of(module))


def test_no_module_imports_a_stage_above_or_beside_its_own() -> None:
    wrong = []
    for module, targets in import_graph().items():
        source = stage_of(module)
        for target in targets:
            destination = stage_of(target)
            if destination == source:
                continue
            source_rank, destination_rank = rank_of(source), rank_of(destination)
            if destination_rank > source_rank or (destination_rank == source_rank != SHARED_RANK):
                wrong.append(f"{module} -> {target}")
    assert wrong == [], "imports against the data flow:\n" + "\n".join(sorted(wrong))


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [module, target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycle_between_modules_at_import_time() -> None:
    cycles = find_cycles(import_graph(import_time_only=True))
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


# The registry imports the built-in tasks (`eval/tasks/`) when first asked for one; they import it
# to register themselves.
TASK_REGISTRY = "memtrain_data.eval.registry"


def test_no_import_cycle_between_modules_lazy_imports_counted_but_the_task_registry() -> None:
    graph = import_graph()
    graph[TASK_REGISTRY] = {target for target in graph.get(TASK_REGISTRY, set()) if not target.startswith("memtrain_data.eval.tasks")}
    cycles = find_cycles(graph)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_no_import_cycle_between_stages() -> None:
    stage_graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in import_graph().items():
        stage_graph[stage_of(module)].update(stage_of(t) for t in targets if stage_of(t) != stage_of(module))
    for stage, targets in stage_graph.items():
        for target in targets:
            assert stage not in reachable(stage_graph, target), f"stages {stage} and {target} import each other"


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def test_executors_know_nothing_about_the_build() -> None:
    executors = import_graph()["memtrain_data.pipeline.executors"]
    assert not {target for target in executors if stage_of(target) not in {"pipeline", "errors"}}, executors
