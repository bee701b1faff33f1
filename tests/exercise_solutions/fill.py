"""Fill a workspace's stubs with this folder's solutions (tests, and instructors).

    python tests/exercise_solutions/fill.py DIR [NAME ...]

Each function defined in a solution file replaces the function of the same
name in the workspace's file (found with `ast`, so the template's docstrings
and given code stay as they are); the solution's imports go after the
template's own.
"""
import ast
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def _functions(tree):
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def splice(template, solution):
    """The template's text with its functions replaced by the solution's."""
    lines = template.splitlines(keepends=True)
    t_tree, s_tree = ast.parse(template), ast.parse(solution)
    s_lines = solution.splitlines(keepends=True)
    replaced = _functions(t_tree)
    # from the bottom up, so that earlier line numbers stay valid
    for name, node in sorted(_functions(s_tree).items(), key=lambda kv: -replaced.get(
            kv[0], t_tree.body[-1]).lineno):
        new = "".join(s_lines[node.lineno - 1:node.end_lineno])
        if name in replaced:
            old = replaced[name]
            start = old.lineno - 1 - len(old.decorator_list)
            lines[start:old.end_lineno] = [new]
        else:
            lines.append("\n\n" + new)
    imports = [s_lines[n.lineno - 1] for n in s_tree.body
               if isinstance(n, (ast.Import, ast.ImportFrom))]
    last_import = max((n.end_lineno for n in t_tree.body
                       if isinstance(n, (ast.Import, ast.ImportFrom))), default=None)
    if last_import is None:                       # no imports: after the docstring
        last_import = t_tree.body[0].end_lineno if isinstance(t_tree.body[0], ast.Expr) else 0
    return "".join(lines[:last_import] + imports + lines[last_import:])


def fill(folder, names=None):
    """Solve the workspace's files (those named, else every one that has a solution)."""
    folder = pathlib.Path(folder)
    done = []
    for solution in sorted(HERE.glob("[0-9][0-9]_*.py")):
        target = folder / solution.name
        name = solution.stem.split("_", 1)[1]
        if not target.exists() or (names and name not in names):
            continue
        target.write_text(splice(target.read_text(), solution.read_text()))
        done.append(name)
    return done


if __name__ == "__main__":
    print("solved:", ", ".join(fill(sys.argv[1], sys.argv[2:])))
