"""Which of our names a partner's name should be compared with: those one word away.

The fuzzy rule (:mod:`cosell.accounts.match`) counts a pair only when the names have the same words
up to a typo in each (:func:`cosell.accounts.names.same_words`), and a typo keeps a word's first
letter. So the names worth comparing with a partner's name are ours that

- have the same words but one, that one starting with the same letter (a typo, or another word
  such as Hill / Hall, which the review list shows);
- have one word more or one word less (Goldman Sachs / Goldman Sachs Group, for review);
- for a one-word name, share its first three letters, its first and last three, or its first letter
  and the rest of its letters in any order (Nvidai / Nvidia).

They are found through an index of words (which of our names contain a word) and of whole names,
so a partner's name meets a few dozen of ours, not all of them: 100,000 accounts take seconds.
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
    whole: dict[Words, list[int]] = defaultdict(list)
    single: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(ours):
        whole[words].append(i)
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
        for i in range(n) if n >= 2 else ():
            rest = q[:i] + q[i + 1 :]
            for j in _within(postings, rest):
                other = ours[j]
                if (
                    len(other) == n
                    and other[:i] == q[:i]
                    and other[i + 1 :] == q[i + 1 :]
                    and other[i][:1] == q[i][:1]
                ):
                    hits.add(j)
            hits.update(whole.get(rest, ()))  # ours has one word less
        for j in _within(postings, q) if n else ():  # ours has one word more
            other = ours[j]
            if len(other) == n + 1 and any(other[:k] + other[k + 1 :] == q for k in range(n + 1)):
                hits.add(j)
        found.append(sorted(hits))
    return found
