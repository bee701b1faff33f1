"""``python -m minigan exercises list | new | check``.

    python -m minigan exercises list
    python -m minigan exercises new DIR [--only NAME,...] [--force]
    python -m minigan exercises check DIR [--only NAME,...] [--csv FILE]
                                          [--time-limit S] [--jobs J]
    python -m minigan exercises check --class PARENT [--csv FILE] [--only ...]

Exit codes: 0 when nothing failed ("not started" is not a failure, so a fresh
workspace exits 0, as `pytest` does with skipped tests), 1 when an exercise
failed, its file is missing, or it ended in "error" or "tampered", 2 for a
mistake in the command (an unknown exercise, a folder that is not a workspace,
files that `new` would overwrite), 3 when minigan's own files changed (a
class run stops there: the students graded so far are still printed and
written to the CSV). ``--class`` grades a whole class and exits 0 once every
folder is graded: the students' results are in the table and the CSV, not in
the exit code.
"""
import sys

from . import catalogue
from .workspace import WorkspaceError, new_workspace, require_workspace
from . import grading


class UsageError(Exception):
    """A mistake in the command line: one line on stderr, exit code 2."""


def add_parser(sub):
    """The `exercises` subcommand, added to minigan's command-line parser."""
    ex = sub.add_parser("exercises", help="the class exercise kit: write backward formulas, "
                                          "graded by gradient checks")
    cmds = ex.add_subparsers(dest="exercises_command", required=True)
    cmds.add_parser("list", help="the exercises, in the suggested order, one line each")
    new = cmds.add_parser("new", help="write a student workspace (templates, README, tests)")
    new.add_argument("dir", help="the workspace folder (created if missing)")
    new.add_argument("--only", default=None,
                     help="comma-separated exercise names (default: all of them)")
    new.add_argument("--force", action="store_true",
                     help="replace exercise files that were changed (old copies kept as .bak)")
    check = cmds.add_parser("check", help="grade a workspace, or a class of them (--class)")
    check.add_argument("dir", nargs="?", default=None, help="the workspace to grade")
    check.add_argument("--class", dest="class_dir", default=None, metavar="PARENT",
                       help="grade every workspace directly under PARENT (one per student)")
    check.add_argument("--only", default=None,
                       help="comma-separated exercise names (default: every exercise "
                            "handed out)")
    check.add_argument("--csv", default=None, metavar="FILE",
                       help="also write the scores as CSV: one row per student")
    check.add_argument("--time-limit", type=float, default=grading.DEFAULT_TIME_LIMIT,
                       metavar="S", help=f"seconds per exercise (default "
                                         f"{grading.DEFAULT_TIME_LIMIT:g})")
    check.add_argument("--jobs", type=int, default=None,
                       help="students' processes started ahead, so that their start-up "
                            "overlaps the grading (default: one per CPU core)")
    return ex


def _only(text):
    if text is None:
        return None
    try:
        return catalogue.parse_only(text)
    except KeyError as e:
        raise UsageError(f"--only: {e.args[0]}") from None


def cmd_list():
    w = max(len(e.name) for e in catalogue.EXERCISES)
    print(f"{'#':>3}  {'exercise':<{w}}  lecture  {'difficulty':<10}  description")
    for e in catalogue.EXERCISES:
        print(f"{e.number:>3}  {e.name:<{w}}  {e.lecture:>7}  {e.difficulty:<10}  {e.summary}")
    return 0


def cmd_new(args):
    exercises = _only(args.only)
    try:
        done = new_workspace(args.dir, exercises, force=args.force)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None
    if done["written"]:
        print(f"wrote {len(done['written'])} files into {args.dir}: {', '.join(done['written'])}")
    if done["replaced"]:
        print(f"replaced {', '.join(done['replaced'])} with fresh templates (the old files "
              f"are kept as .bak)")
    if done["unchanged"]:
        print(f"already there, unchanged: {', '.join(done['unchanged'])}")
    if done["kept"]:
        print(f"kept your own {', '.join(done['kept'])}")
    print(f"next: open {args.dir}/README.md, then: python -m minigan exercises check {args.dir}")
    return 0


def cmd_check(args):
    if (args.dir is None) == (args.class_dir is None):
        raise UsageError("check needs a workspace folder (check DIR), or --class PARENT to "
                         "grade every workspace under PARENT; give one of the two")
    if args.time_limit <= 0:
        raise UsageError(f"--time-limit must be positive, got {args.time_limit:g}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    only = _only(args.only)
    color = sys.stdout.isatty()
    try:
        if args.class_dir is not None:
            return _check_class(args, only, color)
        folder = require_workspace(args.dir)
        results = grading.grade_workspace(folder, only, args.time_limit, args.jobs)
    except WorkspaceError as e:
        raise UsageError(str(e)) from None
    except grading.PackageChanged as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    print(grading.report(folder, results, color))
    if args.csv:
        print(f"wrote {grading.write_csv(args.csv, {folder.resolve().name: results})}")
    return 1 if any(r.status in grading.FAILING for r in results) else 0


def _check_class(args, only, color):
    """`check --class`: the table and the CSV, even of a run that stopped because
    minigan's files changed (then with the students graded until then, exit 3)."""
    _, others = grading.student_folders(args.class_dir)
    stopped = None
    try:
        graded = grading.grade_class(args.class_dir, only, args.time_limit, args.jobs)
    except grading.PackageChanged as e:
        stopped, graded = e, e.graded
    print(grading.class_report(args.class_dir, graded, others, color))
    if args.csv and graded:
        print(f"wrote {grading.write_csv(args.csv, graded)}")
    if stopped is not None:
        print(f"error: {stopped}", file=sys.stderr)
        return 3
    return 0


def run(args):
    """Run `exercises ...` from parsed arguments; returns the exit code."""
    if args.exercises_command == "list":
        return cmd_list()
    if args.exercises_command == "new":
        return cmd_new(args)
    return cmd_check(args)
