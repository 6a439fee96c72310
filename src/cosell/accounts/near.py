"""Which of our names a partner's name should be compared with: those one word away.

The fuzzy rule (:mod:`cosell.accounts.match`) counts a pair only when the names have the same words
up to a typo in each (:func:`cosell.accounts.names.same_words`), and a typo keeps a word's first
letter. So the names worth comparing with a partner's name are ours that

- have the same words but one, that one starting with the same letter (a typo, or another word
  such as Hill / Hall, which the review list shows);
- have one word more or one word less (Goldman Sachs / Goldman Sachs Group, for review);
- for a one-word name, share its first three letters, its first and last three, or its first letter
  and the rest of its letters in any order (Nvidai / Nvidia).

They are found through an index of words (which of our names contain a word): a name one word away
holds two of the partner name's first three words, so a partner's name meets a few dozen of ours,
not all of them (100,000 accounts take seconds), and a name of thousands of words takes no longer
than its length.
A name with two misspelt words meets nothing and is not matched. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

Words = tuple[str, ...]


def _single_keys(word: str) -> tuple[str, str, str]:
    return ("<" + word[:3], ">" + word[0] + word[-3:], "#" + word[0] + "".join(sorted(word[1:])))


def _within(postings: dict[str, list[int]], words: Sequence[str]) -> set[int]:
    """Our names (by position) that contain every one of ``words`` (smallest posting list first)."""
    lists = sorted((postings.get(w, []) for w in set(words)), key=len)
    if not lists or not lists[0]:
        return set()
    found = set(lists[0])
    for more in lists[1:]:
        found.intersection_update(more)
        if not found:
            break
    return found


def near_candidates(queries: Sequence[Words], ours: Sequence[Words]) -> list[list[int]]:
    """For each query's words, the positions in ``ours`` of the names one word away (module
    docstring), sorted."""
    if not queries:
        return []
    vocabulary = {w for q in queries for w in q}
    postings: dict[str, list[int]] = defaultdict(list)
    single: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(ours):
        for w in set(words) & vocabulary:
            postings[w].append(i)
        if len(words) == 1 and words[0]:
            for key in _single_keys(words[0]):
                single[key].append(i)
    found = []
    for q in queries:
        n = len(q)
        hits: set[int] = set()
        if n == 1 and q[0]:
            for key in _single_keys(q[0]):
                hits.update(single.get(key, ()))
            for j in _within(postings, q):  # ours has one word more
                if _one_word_away(q, ours[j]):
                    hits.add(j)
        elif n >= 2:
            # A name one word away shares every word of the query but one, so it holds the first two
            # words, or the second and third, or the first and third: a few small lists to check,
            # whatever the length of the name (checking each word's removal was quadratic in it).
            groups = ((q[0],), (q[1],)) if n == 2 else ((q[0], q[1]), (q[1], q[2]), (q[0], q[2]))
            for group in groups:
                hits.update(j for j in _within(postings, group) if _one_word_away(q, ours[j]))
        found.append(sorted(hits))
    return found


def _one_word_away(q: Words, other: Words) -> bool:
    """``other`` is ``q`` with one word changed (keeping its first letter), one word less (for a
    name of two words or more) or one word more; or ``q`` itself."""
    n, m = len(q), len(other)
    if m == n:
        differ = [k for k in range(n) if q[k] != other[k]][:2]
        return not differ or (len(differ) == 1 and other[differ[0]][:1] == q[differ[0]][:1])
    if m == n + 1 or (m == n - 1 and n >= 2):
        longer, shorter = (q, other) if n > m else (other, q)
        # dropping the first word where they part is enough: if any one dropped word makes them equal, it does
        k = next((k for k in range(len(shorter)) if longer[k] != shorter[k]), len(shorter))
        return longer[k + 1 :] == shorter[k:]
    return False
