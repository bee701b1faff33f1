"""Score a finished image-GAN run's saved samples again, through the second judge.

    python -m minigan.experiments.rescore runs/dcgan [runs/cgan ...]

A run's ``samples.npy`` (and, for the conditional GAN, ``labels.npy``) are what it
scored; this adds the second judge's numbers (``evaluate.second_opinion``: the
``judge2_`` keys that a run of today's code writes itself) to its
``metrics.json``, marked ``"judge2_rescored": true``. Nothing else in the file
changes. For runs made before the second judge existed.
"""
import json
import pathlib
import sys

import numpy

from ..eval import evaluate
from ..serialization import atomic_write


def rescore(run_dir, data_dir=None):
    """Add the second judge's scores of `run_dir`'s samples to its metrics.json;
    returns them."""
    run_dir = pathlib.Path(run_dir)
    path = run_dir / "metrics.json"
    metrics = json.loads(path.read_text())
    samples = numpy.load(run_dir / "samples.npy", allow_pickle=False)
    labels = run_dir / "labels.npy"
    requested = numpy.load(labels, allow_pickle=False) if labels.exists() else None
    scores = evaluate.second_opinion(samples, evaluate.load_classifier(judge="mlp"),
                                     requested, data_dir)
    metrics.update({k: float(v) for k, v in scores.items()}, judge2_rescored=True)
    atomic_write(path, json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    return scores


def main(argv=None):
    folders = sys.argv[1:] if argv is None else argv
    if not folders:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    for folder in folders:
        scores = rescore(folder)
        print(folder, {k: round(v, 3) for k, v in scores.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
