"""Words in referral text: cleaning a line, and reading a person's name, a company and a job title at
a position. The rules are about capitals and a few short word lists, so a reviewer can say why a
value was read (``Jane Doe``: two capitalised words after "meet"), and the same text always gives the
same words.
"""

from __future__ import annotations

import json
import re

# An address as written in text: ASCII local part and host, a dot-separated host ending in letters.
EMAIL_RE = re.compile(
    r"(?<![\w.+'%-])([A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})"
)
# Slack writes links as <mailto:a@b.com|a@b.com> and <https://x.com|x.com>; keep what a person sees.
_SLACK_LINK_RE = re.compile(r"<(?:mailto:|https?://)[^|<>\s]+\|([^<>]+)>")
_SLACK_BARE_RE = re.compile(r"<(?:mailto:)([^|<>\s]+)>")
_MAILTO_RE = re.compile(r"(?i)\bmailto:")
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")
UNPAIRED_SURROGATE = "is not text: a \\u escape gives an unpaired surrogate (\\ud800 to \\udfff)"
_BULLET_RE = re.compile(r"^(?:[>*\u2022\u00b7\u25aa\u25cf\-\u2013+]+|\d{1,2}[.)])(?:\s+|(?=[>]))")
_EMPHASIS_RE = re.compile(r"\*\*|__|~~|`|(?<![\w*])[*_](?=\S)|(?<=\S)[*_](?![\w*])")

_NAME_WORD_RE = re.compile(r"[^\W\d_][\w'\u2019-]*")
_WORD_RE = re.compile(r"[ \t]*([^\W\d_][\w'\u2019.-]*)")
_COMPANY_WORD_RE = re.compile(r"[ \t]*([^\s,;:()<>\[\]{}\"!?/]+)")
# Lower-case words inside names ("Ludwig van Beethoven") and companies ("Bank of America").
_NAME_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "del", "della", "di", "du",
                             "la", "le", "bin", "al", "dos", "das"})  # fmt: skip
_COMPANY_CONNECTORS = frozenset({"of", "and", "&", "de", "du", "la", "le", "the", "for", "und"})
# Capitalised words that start a sentence rather than a name ("This is the ...", "Hi Jane").
_NOT_NAMES = frozenset({
    "a", "an", "and", "dear", "he", "hello", "here", "hey", "hi", "i", "it", "me", "meet", "my",
    "our", "she", "so", "thanks", "that", "the", "their", "there", "they", "this", "we", "what",
    "which", "who", "you", "your", "inc", "inc.", "corp", "corp.", "llc", "ltd", "ltd.", "gmbh",
    "team", "group", "partners", "company", "sa", "ag", "plc", "co", "co.",
})  # fmt: skip
_NOT_TITLE_STARTS = frozenset({"who", "she", "he", "they", "i", "we", "you", "it", "that", "which",
                               "and", "also", "has", "have", "was", "is", "will", "can"})  # fmt: skip
TITLE_WORDS = frozenset({
    "analyst", "architect", "buyer", "ceo", "cfo", "chief", "cio", "ciso", "coo", "cro", "cto",
    "director", "engineer", "evp", "founder", "head", "lead", "manager", "officer", "owner",
    "partner", "president", "principal", "procurement", "svp", "vp", "controller", "treasurer",
    "specialist", "consultant", "administrator", "counsel", "executive", "associate",
})  # fmt: skip


def clean_line(line: str) -> str:
    """``"> * **Company:** Globex "`` -> ``"Company: Globex"``: quote marks, bullets, markdown and
    Slack emphasis and links stripped, whitespace collapsed."""
    text = line.replace("\u00a0", " ").replace("\u200b", "")
    # Spaces around what a link leaves, so "a@b.com<mailto:a@b.com>" does not run into one word.
    text = _SLACK_LINK_RE.sub(r" \1 ", text)
    text = _SLACK_BARE_RE.sub(r" \1 ", text)
    text = _MAILTO_RE.sub("", text)
    text = text.strip()
    previous = None
    while previous != text:  # "> - *Company*" has several layers
        previous = text
        text = _BULLET_RE.sub("", text).strip()
    text = _EMPHASIS_RE.sub("", text)
    return " ".join(text.split())


def _is_name_word(word: str) -> bool:
    return word[0].isupper() and word.lower() not in _NOT_NAMES and not word.isupper()


def name_at(text: str, position: int) -> tuple[str, int] | None:
    """The person's name starting at ``position``: two to four capitalised words (lower-case
    particles such as "van" between them), and where it ends; None when there is none."""
    words: list[str] = []
    end = position
    pending: list[str] = []
    while len(words) < 4:
        match = _WORD_RE.match(text, end)
        if match is None:
            break
        word = match.group(1)
        if word.lower() in _NAME_PARTICLES and words:
            pending.append(word)
            end = match.end()
            continue
        initial = len(word) == 2 and word.endswith(".") and word[0].isupper()
        stripped = word.rstrip(".")
        if not stripped or not (initial or _is_name_word(stripped)):
            break
        words += [*pending, word if initial else stripped]
        pending = []
        end = match.end() if initial or not word.endswith(".") else match.end() - 1
        if word.endswith(".") and not initial:
            break  # the sentence ends here
    if pending:  # "Jane de" without a capitalised word after the particle
        return None
    if len([w for w in words if w.lower() not in _NAME_PARTICLES]) < 2:
        return None
    return " ".join(words), end


def name_before(text: str, position: int) -> tuple[str, int] | None:
    """The person's name ending just before ``position`` ("... Jane Doe| is the CFO"): up to three
    capitalised words, job acronyms such as "CFO" in front left out; and where it starts."""
    # Three words are never further back than this; a bounded window keeps a long text linear.
    words = list(_NAME_WORD_RE.finditer(text, max(0, position - 120), position))
    taken: list[re.Match[str]] = []
    for match in reversed(words):
        if taken and text[match.end() : taken[-1].start()].strip():
            break  # punctuation between: not one name
        word = match.group(0)
        if not (_is_name_word(word) or (taken and word.lower() in _NAME_PARTICLES)):
            break
        taken.append(match)
        if len(taken) == 3:
            break
    taken.reverse()
    while taken and taken[0].group(0).lower() in _NAME_PARTICLES:
        taken.pop(0)
    if len(taken) < 2 or text[taken[-1].end() : position].strip():
        return None
    return " ".join(m.group(0) for m in taken), taken[0].start()


def company_at(text: str, position: int) -> tuple[str, int] | None:
    """The company name starting at ``position``: capitalised words, digits and "&", with "of",
    "and" and the like between them ("Bank of America"), up to six words; and where it ends."""
    words: list[str] = []
    pending: list[str] = []
    end = position
    while len(words) + len(pending) < 6:
        match = _COMPANY_WORD_RE.match(text, end)
        if match is None:
            break
        word = match.group(1)
        if word.lower() in _COMPANY_CONNECTORS and words:
            pending.append(word)
            end = match.end()
            continue
        stripped = re.sub(r"(?:'s|\u2019s)$", "", word.rstrip("."))
        if not stripped or not (stripped[0].isupper() or stripped[0].isdigit()):
            break
        words += [*pending, stripped]
        pending = []
        end = match.end()
        if word.endswith(".") or stripped != word.rstrip("."):
            break  # a sentence end, or a possessive: the name stops here
    if not words or (len(words) == 1 and words[0].lower() in _NOT_NAMES):
        return None
    return " ".join(words), end


def looks_like_title(title: str) -> bool:
    """A job title: one to seven words, starting with a capital or containing a title word such as
    "head" or "director"; never a clause ("who runs finance")."""
    words = title.split()
    if not 1 <= len(words) <= 7 or "@" in title:
        return False
    if words[0].lower() in _NOT_TITLE_STARTS:
        return False
    lowered = {w.lower().strip(".,") for w in words}
    return words[0][0].isupper() or bool(lowered & TITLE_WORDS)


def split_contact(value: str) -> tuple[str | None, str | None]:
    """``Jane Doe, VP Finance`` -> (``Jane Doe``, ``VP Finance``): the person's name and, when one
    follows, a title; the value's email addresses removed beforehand by the caller."""
    value = re.sub(r"[<(\[]\s*[>)\]]", " ", value)
    parts = [p.strip(" \t\"'.;:<>") for p in re.split(r",|\||\s[-\u2013\u2014]\s|\(|\)", value)]
    parts = [p for p in parts if p]
    if not parts:
        return None, None
    name = parts[0]
    words = name.split()
    if not 1 <= len(words) <= 5 or any(c.isdigit() for c in name) or "@" in name:
        return None, None
    title = parts[1] if len(parts) > 1 and looks_like_title(parts[1]) else None
    return name, title


def has_unpaired_surrogate(json_text: str, loaded: object) -> bool:
    """Whether the JSON ``json_text``, read as ``loaded``, holds a string with an unpaired surrogate:
    ``"\\ud800"`` is valid JSON but no text, and no database stores it.

    >>> has_unpaired_surrogate('"\\\\ud83d\\\\ude00"', "\\U0001f600"), has_unpaired_surrogate('"\\\\ud800"', "\\ud800")
    (False, True)
    """
    if _SURROGATE_ESCAPE_RE.search(json_text) is None:
        return False  # only an escape gives one: UTF-8 text never decodes to a surrogate
    try:
        json.dumps(loaded, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
