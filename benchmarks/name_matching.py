"""Benchmark: precision and recall of company-name matching on the labelled pairs.

Each pair of tests/accounts/fixtures/name_pairs.csv (left, right, same, note; written by hand, not
by the matcher) goes through the matcher itself (:func:`cosell.accounts.match.match_accounts`, one
of our accounts named ``right``, one partner row named ``left``, no domains): a pair is matched when
the partner row is matched by name or fuzzy name; a review candidate is not a match. It prints the
counts, precision and recall beside the targets that tests/accounts/test_name_pairs.py asserts,
the figures at other thresholds (how the threshold was chosen), and with ``--scorers`` how other
rapidfuzz scorers would do (how the scorer was chosen). With ``--speed SIZE`` it also writes the
demo dataset of SIZE deals (``cosell demo --out``; 600,000 deals give 100,000 accounts) and times
matching its partner_accounts to its accounts. Reproduce:

    .venv/bin/python benchmarks/name_matching.py [--scorers] [--misses] [--speed 600000]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from cosell.accounts.match import FUZZY_THRESHOLD, REVIEW_FLOOR, OurAccount, PartnerAccount, match_accounts
from cosell.accounts.names import compact_name, normalise_name, same_words

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "accounts" / "fixtures" / "name_pairs.csv"
# The floors tests/accounts/test_name_pairs.py asserts (why: docs/accounts.md).
PRECISION_TARGET = 0.98
RECALL_TARGET = 0.85


@dataclass(frozen=True)
class Pair:
    left: str
    right: str
    same: bool
    note: str


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    """The labelled pairs, in file order."""
    with path.open(encoding="utf-8", newline="") as f:
        return [Pair(r["left"], r["right"], r["same"] == "1", r["note"]) for r in csv.DictReader(f)]


def matched(pair: Pair, threshold: float = FUZZY_THRESHOLD) -> bool:
    """Does the matcher match the pair's partner row (left) to our account (right)?"""
    result = match_accounts(
        [OurAccount("A1", pair.right)],
        [PartnerAccount("P1", pair.left, None, "prospect")],
        threshold=threshold,
        floor=min(REVIEW_FLOOR, threshold),
    )
    return bool(result.matches)


def count(pairs: list[Pair], decide: Callable[[Pair], bool]) -> Counts:
    tp = fp = fn = tn = 0
    for p in pairs:
        got = decide(p)
        tp += got and p.same
        fp += got and not p.same
        fn += not got and p.same
        tn += not got and not p.same
    return Counts(tp, fp, fn, tn)


def _line(label: str, c: Counts) -> str:
    return (
        f"{label:<34} precision {c.precision:.3f}  recall {c.recall:.3f}  "
        f"(tp {c.tp:,}, fp {c.fp:,}, fn {c.fn:,}, tn {c.tn:,})"
    )


SCORERS: dict[str, Callable[[str, str], float]] = {
    "ratio": fuzz.ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "partial_ratio": fuzz.partial_ratio,
    "WRatio": fuzz.WRatio,
    "JaroWinkler": lambda a, b: 100 * JaroWinkler.normalized_similarity(a, b),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scorers", action="store_true", help="compare rapidfuzz scorers")
    parser.add_argument("--misses", action="store_true", help="list every pair the matcher gets wrong")
    parser.add_argument("--speed", type=int, metavar="SIZE", help="time matching the demo of SIZE deals")
    args = parser.parse_args()
    pairs = load_pairs()
    same = sum(p.same for p in pairs)
    print(
        f"{len(pairs):,} labelled pairs ({same:,} same company, {len(pairs) - same:,} different): {PAIRS.name}"
    )
    c = count(pairs, matched)
    print(_line(f"matcher (threshold {FUZZY_THRESHOLD:g})", c))
    print(f"{'targets':<34} precision >= {PRECISION_TARGET:.2f}  recall >= {RECALL_TARGET:.2f}  ", end="")
    print("met" if c.precision >= PRECISION_TARGET and c.recall >= RECALL_TARGET else "NOT MET")
    print("\nby threshold (the same-words guard always on):")
    for t in range(70, 100, 5):
        print(_line(f"  threshold {t}", count(pairs, lambda p, t=t: matched(p, t))))
    if args.scorers:
        print("\nscorers on normalised names, without the same-words guard (with it: ratio is the matcher):")
        for name, scorer in SCORERS.items():
            for t in (80, 85, 90, 95):

                def plain(p: Pair, scorer: Callable[[str, str], float] = scorer, t: int = t) -> bool:
                    a, b = normalise_name(p.left), normalise_name(p.right)
                    return compact_name(p.left) == compact_name(p.right) or round(scorer(a, b), 1) >= t

                print(_line(f"  {name} >= {t}", count(pairs, plain)))
        guarded = count(
            pairs,
            lambda p: (
                compact_name(p.left) == compact_name(p.right)
                or same_words(normalise_name(p.left), normalise_name(p.right))
            ),
        )
        print(_line("  same words alone (no score)", guarded))
    if args.misses:
        print("\nmisses (fn: same company not matched; fp: different companies matched):")
        for p in pairs:
            if matched(p) != p.same:
                print(f"  {'fn' if p.same else 'fp'}  {p.left!r} ~ {p.right!r}  ({p.note})")
    if args.speed:
        speed(args.speed)
    print("\nreproduce: .venv/bin/python benchmarks/name_matching.py [--scorers] [--misses] [--speed 600000]")


def speed(size: int) -> None:
    """Write the demo dataset of ``size`` deals and time matching its partner lists to its accounts."""
    with tempfile.TemporaryDirectory(prefix="cosell-names-") as tmp:
        cosell = Path(sys.executable).with_name("cosell")
        cmd = [str(cosell), "demo", "--out", tmp, "--size", str(size)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with (Path(tmp) / "accounts.csv").open(encoding="utf-8", newline="") as f:
            ours = [OurAccount(r["account_id"], r["name"], r["domain"] or None) for r in csv.DictReader(f)]
        with (Path(tmp) / "partner_accounts.csv").open(encoding="utf-8", newline="") as f:
            theirs = [
                PartnerAccount(r["partner_id"], r["name"], r["domain"] or None, r["status"])
                for r in csv.DictReader(f)
            ]
    wall, cpu = time.perf_counter(), time.process_time()
    result = match_accounts(ours, theirs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    methods = ", ".join(f"{k} {v:,}" for k, v in result.by_method.items())
    print(
        f"\nspeed: {len(ours):,} accounts x {len(theirs):,} partner rows matched in {wall:.1f} s ({cpu:.1f} s CPU)"
    )
    print(
        f"  {len(result.matches):,} matched ({methods}), {len(result.review):,} for review, {result.unmatched:,} not ours"
    )


if __name__ == "__main__":
    main()
