"""Which of our names a partner's name is compared with (cosell.accounts.near): exactly those one
word away, found in time linear in the name's length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cosell.accounts.near as near
from cosell.accounts.near import near_candidates

WORDS = st.sampled_from(["a", "ab", "abc", "abd", "acb", "b", "bay", "bya", "c", "x", "xy"])
NAMES = st.lists(WORDS, max_size=5).map(tuple)


def one_word_away(q: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """The rule of the module docstring, written plainly (every position tried)."""
    n = len(q)
    if n == 1:
        w, o = q[0], other[0] if len(other) == 1 else None
        if o is not None and (
            o[:3] == w[:3]
            or (o[0] + o[-3:]) == (w[0] + w[-3:])
            or (o[0], sorted(o[1:])) == (w[0], sorted(w[1:]))
        ):
            return True
    if len(other) == n + 1 and any(other[:k] + other[k + 1 :] == q for k in range(n + 1)):
        return True
    if n < 2:
        return False
    if len(other) == n - 1 and any(q[:i] + q[i + 1 :] == other for i in range(n)):
        return True
    return len(other) == n and any(
        other[:i] == q[:i] and other[i + 1 :] == q[i + 1 :] and other[i][:1] == q[i][:1] for i in range(n)
    )


@given(queries=st.lists(NAMES, max_size=6), ours=st.lists(NAMES, max_size=20))
def test_the_names_found_are_exactly_those_one_word_away(
    queries: list[tuple[str, ...]], ours: list[tuple[str, ...]]
) -> None:
    expected = [[j for j, other in enumerate(ours) if q and one_word_away(q, other)] for q in queries]
    assert near_candidates(queries, ours) == expected


def test_a_name_of_thousands_of_words_reads_a_few_word_lists_not_one_per_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A partner's list is the partner's data: one name of 20,000 words took accounts match five
    # minutes when every word's removal was looked up (quadratic in the name's length).
    calls = []
    within = near._within

    def counted(postings: dict[str, list[int]], words: tuple[str, ...]) -> set[int]:
        calls.append(len(words))
        return within(postings, words)

    monkeypatch.setattr(near, "_within", counted)
    long = tuple(f"w{i}" for i in range(2_000))
    ours = [long[:-1], long, (*long, "x"), long[:5], ("w0", "w1")]
    assert near_candidates([long], ours) == [[0, 1, 2]]
    assert len(calls) <= 3 and max(calls) <= 2
