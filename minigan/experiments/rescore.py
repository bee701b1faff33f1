"""Score a finished image-GAN run's saved samples again: what its code did not yet score.

    python -m minigan.experiments.rescore RUN [RUN ...]
    python -m minigan.experiments.rescore --figure OUT.png RUN [RUN ...]

A run's ``samples.npy`` (and, for the conditional GAN, ``labels.npy``) are what it
scored. For runs made before these scores existed, this adds to its
``metrics.json`` what the file lacks:

* the second judge's numbers (``evaluate.second_opinion``: the ``judge2_`` keys),
  marked ``"judge2_rescored": true``;
* precision, recall, density and coverage against the test images, beside those of
  as many real training images (``evaluate.manifold_scores``: the keys a run of
  today's code writes itself), marked ``"manifold_rescored": true``.

A part the file already holds is left as it is, and nothing else in the file
changes. ``--figure OUT.png`` then draws the runs by precision against recall (and
density against coverage), one point per run, real data marked.
"""
import json
import pathlib
import sys

import numpy

from ..eval import evaluate
from ..serialization import atomic_write

MANIFOLD_KEYS = ("precision", "recall", "density", "coverage")


def _samples(run_dir):
    samples = numpy.load(run_dir / "samples.npy", allow_pickle=False)
    labels = run_dir / "labels.npy"
    return samples, (numpy.load(labels, allow_pickle=False) if labels.exists() else None)


def _judge2(samples, requested, data_dir):
    return evaluate.second_opinion(samples, evaluate.load_classifier(judge="mlp"),
                                   requested, data_dir)


def _manifold(samples, requested, data_dir):
    clf = evaluate.load_classifier()
    _, feats = evaluate.classify(clf, samples)
    return evaluate.manifold_scores(feats, evaluate.reference(id(clf), clf, data_dir))


# part -> (a key its scores hold, how to compute them)
PARTS = {"judge2": ("judge2_inception_score", _judge2),
         "manifold": ("precision", _manifold)}


def rescore(run_dir, data_dir=None):
    """Add to `run_dir`'s metrics.json each part (``PARTS``) it lacks, marked
    ``<part>_rescored``; returns the scores added (empty if it lacked none)."""
    run_dir = pathlib.Path(run_dir)
    path = run_dir / "metrics.json"
    metrics = json.loads(path.read_text())
    missing = [part for part, (key, _) in PARTS.items() if key not in metrics]
    added = {}
    if missing:
        samples, requested = _samples(run_dir)
        for part in missing:
            scores = PARTS[part][1](samples, requested, data_dir)
            added.update(scores)
            metrics.update({k: v if isinstance(v, int) else float(v)
                            for k, v in scores.items()})
            metrics[f"{part}_rescored"] = True
        atomic_write(path, json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    return added


def figure(run_dirs, path):
    """Precision against recall (and density against coverage) of the runs in
    `run_dirs`, each labelled by its folder's name; returns the PNG's path."""
    from .figures import manifold as manifold_figs
    runs = []
    for folder in run_dirs:
        folder = pathlib.Path(folder)
        m = json.loads((folder / "metrics.json").read_text())
        if "precision" not in m:
            raise ValueError(f"{folder}: metrics.json has no precision and recall; "
                             f"rescore it first")
        runs.append((folder.name, m))
    return manifold_figs.precision_recall(runs, path)


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    out = None
    if "--figure" in args:
        i = args.index("--figure")
        if i + 1 >= len(args):
            print("--figure needs a path: --figure OUT.png RUN [RUN ...]")
            return 2
        out = args[i + 1]
        del args[i:i + 2]
    if not args:
        print("\n".join(line.strip() for line in __doc__.strip().splitlines()[2:4]))
        return 2
    for folder in args:
        scores = rescore(folder)
        print(folder, {k: round(v, 3) for k, v in scores.items()} if scores
              else "(nothing missing)")
    if out is not None:
        print("wrote", figure(args, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
