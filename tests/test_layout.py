"""The house: the library never imports matplotlib (figures are the lab's) nor the lab,
and its modules import each other without cycles."""
import pkgutil
import subprocess
import sys

import minigan


def _library_modules():
    names = []
    for info in pkgutil.walk_packages(minigan.__path__, "minigan."):
        if info.name.startswith("minigan.experiments"):
            continue
        names.append(info.name)
    return names


def test_the_library_does_not_import_matplotlib():
    names = _library_modules()
    assert {"minigan.gan.step", "minigan.gan.runner", "minigan.gan.tricks.unrolled",
            "minigan.eval.evaluate", "minigan.data.mnist_files", "minigan.lessons.latent",
            "minigan.gan.recipes", "minigan.eval.pixels"} <= set(names)
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
            "print('matplotlib loaded:', bad[:3]) if bad else print('clean')\n"
            "sys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_figures_do_import_matplotlib():
    # the check above can fail: the lab's figure modules do load matplotlib
    code = ("import sys, minigan.experiments.figures.style\n"
            "sys.exit(0 if 'matplotlib' in sys.modules else 1)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_the_library_does_not_import_the_lab():
    code = ("import importlib, sys\n"
            f"for name in {_library_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            "sys.exit(1 if any(m.startswith('minigan.experiments') for m in sys.modules) else 0)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_the_gan_core_reads_algorithm_first():
    """gan/step.py holds the algorithm: GANStep.step and its two override points come
    before anything else in the class, and the runner's bookkeeping is elsewhere."""
    import inspect
    from minigan.gan import step, runner
    methods = [n for n, v in vars(step.GANStep).items() if inspect.isfunction(v)]
    assert methods[:4] == ["__init__", "step", "update_discriminator", "update_generator"]
    assert not hasattr(step.GANStep, "fit") and not hasattr(step.GANStep, "save_checkpoint")
    assert issubclass(runner.Trainer, step.GANStep)
    assert len(inspect.getsource(step).splitlines()) < 260


# ------------------------------------------------------------------ import cycles
def _import_graph(module_level_only):
    """{module: {modules it imports}} for every module of minigan, read from the
    source (ast): `import minigan.x`, `from .x import y`, `from . import x`, each
    resolved to the module it names (a package's __init__ counts as the package).
    With module_level_only, imports inside functions (run when called, not when
    the module loads) are left out."""
    import ast
    import os
    root = os.path.dirname(minigan.__file__)
    files = {}
    for folder, _, names in os.walk(root):
        for f in names:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, f), os.path.dirname(root))[:-3]
                name = rel.replace(os.sep, ".")
                is_package = name.endswith(".__init__")
                files[name[:-len(".__init__")] if is_package else name] = \
                    (os.path.join(folder, f), is_package)

    def imports(tree):
        stack = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node
            elif not (module_level_only and isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))):
                stack.extend(ast.iter_child_nodes(node))

    graph = {}
    for name, (path, is_package) in files.items():
        package = name if is_package else name.rpartition(".")[0]
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        deps = set()
        for node in imports(tree):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in files)
                continue
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] +
                                ([node.module] if node.module else []))
            else:
                base = node.module
            for a in node.names:
                if f"{base}.{a.name}" in files:          # a submodule: from . import x
                    deps.add(f"{base}.{a.name}")
                elif base in files:                      # a name defined in base
                    deps.add(base)
        graph[name] = deps - {name}
    return graph


def _cycles(graph):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_is_read_right():
    graph = _import_graph(module_level_only=False)
    assert {"minigan.autograd", "minigan.backend"} <= graph["minigan.tensor"]
    assert "minigan.ops.layout" in graph["minigan.ops.conv"]          # from .layout import ...
    assert "minigan.functional" in graph["minigan.nn.layers"]         # from .. import functional
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_inside_nn():
    # every import counts here, those inside functions too: a module that imports
    # another only when called still cannot be read without it
    graph = _import_graph(module_level_only=False)
    nn = {m: {d for d in deps if d.startswith("minigan.nn.")}
          for m, deps in graph.items() if m.startswith("minigan.nn.")}
    assert len(nn) >= 4
    assert _cycles(nn) == []


def test_no_module_level_import_cycles_in_the_library():
    # One cycle is by design: Tensor's operators are ops, and the ops return
    # Tensors, so tensor.py imports the ops at its end, once the class they need
    # exists. Those four imports are left out; any other cycle fails.
    by_design = {"minigan.ops.math", "minigan.ops.reduce", "minigan.ops.shape",
                 "minigan.ops.linalg"}
    graph = _import_graph(module_level_only=True)
    assert by_design <= graph["minigan.tensor"]
    graph["minigan.tensor"] = graph["minigan.tensor"] - by_design
    assert _cycles(graph) == []
