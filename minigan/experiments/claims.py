"""What a demo claims, what it measured, and whether the claim held.

An experiment whose point is a lecture claim returns ``claims``: a list of
``Claim``s, each built from the numbers the run measured. ``Experiment.run``
prints each with its verdict and records it in ``metrics.json``; a figure whose
claim failed says so in its title (``titled``). A claim is decided by a rule
written before the run (from the theory or the lecture's statement), never by a
threshold fitted to what one run gave.
"""
from dataclasses import dataclass, asdict


@dataclass(frozen=True)
class Claim:
    claim: str          # what the lecture says, in its words
    expected: str       # what the numbers must show for it to hold
    measured: str       # what this run measured
    held: bool

    def line(self, quick=False):
        """One line for the terminal: the verdict first."""
        verdict = "held" if self.held else "FAILED"
        note = ("; a --quick run may be too short for it: run it in full"
                if quick and not self.held else "")
        return (f"claim {verdict}: {self.claim} (expected {self.expected}; measured "
                f"{self.measured}{note})")


def claim(text, expected, measured, held):
    """A ``Claim``; `held` is turned into a plain bool (a NumPy bool is not JSON)."""
    return Claim(str(text), str(expected), str(measured), bool(held))


def as_records(claims):
    """The claims as JSON-ready dicts, for metrics.json."""
    return [asdict(c) for c in claims]


def all_held(claims):
    return all(c.held for c in claims)


def titled(title, claims):
    """`title`, marked when a claim failed (a figure must not look like a success when
    its point was not shown; the terminal and metrics.json say which claim)."""
    failed = sum(not c.held for c in claims)
    if not failed:
        return title
    return f"CLAIM FAILED ({failed} of {len(claims)}): {title}"
