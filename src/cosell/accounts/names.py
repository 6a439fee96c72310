"""Company names as a matcher compares them: one normalised form, and a similarity score.

::

    normalise_name("The Ünion Bridge & Co., Ltd.")   # 'union bridge'
    normalise_name("J. P. Morgan Chase & Co.")       # 'jp morgan chase'
    similarity("Northwind Logistics", "Nortwhind Logistics GmbH")   # 94.7 (0 to 100)

Normalising removes what differs between two spellings of the same company and never tells
companies apart (letters and digits of every script stay: ``Яндекс`` is ``яндекс``): accents (``Société`` = ``Societe``), case, punctuation (``S.A.`` = ``SA``,
``Coca-Cola`` = ``Coca Cola``), ``&`` / ``+`` / ``and``, a leading ``The``, the legal form at the end
(or, for the forms written first, at the start: ``PT``, ``OOO``) in the many countries listed in
:data:`LEGAL_FORMS`, and abbreviations that stand for one word only (``Mfg``, ``Intl``:
:data:`ABBREVIATIONS`). Words that do tell companies apart stay: ``Group``, ``Holdings``,
``International``, ``Bank``, a country. A name that is nothing but a legal form keeps it. A
placeholder (``Unknown``, ``N/A``, ``TBD``, ``[not provided]``: :data:`PLACEHOLDER_NAMES`) is no
name: it normalises to nothing, as ``-`` and ``?`` do, and is like no other name.

The score is rapidfuzz's ``fuzz.ratio`` (the normalised Indel similarity, 0 to 100) of the two
normalised names; :func:`same_words` says whether two names differ only by a typo in some words.
Both were chosen by measurement on the labelled pairs (tests/accounts/fixtures/name_pairs.csv,
``benchmarks/name_matching.py --scorers``): token-set and partial scorers rate "Delta" and "Delta
Dental" 100, and no score alone tells "Crescent Dale" from "Crescent Vale" (95.7) while accepting
"Nvidai" for "Nvidia" (83.3). Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Levenshtein

# Legal forms, as token sequences after punctuation is removed and single letters are joined
# ("S.A." -> "sa", "S. A." -> "sa", "A/S" -> "as", "sp. z o.o." -> "sp z oo"). Longest first, so
# "pty ltd" goes as a whole before "ltd" alone.
LEGAL_FORMS: tuple[str, ...] = (
    # English-speaking countries (US, UK, IE, CA, AU, NZ, IN, SG, HK, ZA)
    "inc", "incorporated", "corp", "corporation", "co", "company", "cos", "companies", "llc", "llp",
    "lp", "plc", "pllc", "pc", "ltd", "limited", "lc", "dba", "cic", "pty", "pty ltd", "pty limited",
    "proprietary limited", "pte", "pte ltd", "pvt", "pvt ltd", "private limited", "co ltd",
    "co limited", "company limited", "company ltd", "corp ltd", "ltd co", "llc co", "na", "nl",
    "ulc", "unlimited", "soc ltd", "cc",
    # German-speaking countries (DE, AT, CH, LI)
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ev", "eg", "se", "gmbh co kg", "gmbh and co kg",
    "ag co kg", "ag and co kg", "gesmbh", "gmbh co", "gmbh and co", "haftungsbeschrankt",
    "ug haftungsbeschrankt",
    # French-speaking (FR, BE, CH, LU, CA)
    "sa", "sas", "sasu", "sarl", "eurl", "sca", "snc", "sci", "scs", "sem", "scop", "sprl", "srl",
    "ltee", "inc ltee",
    # Benelux
    "bv", "nv", "vof", "bvba", "cv", "cvba",
    # Italian, Spanish, Portuguese, Latin America
    "spa", "sapa", "srls", "sl", "slu", "sau", "sll", "sa de cv", "s de rl", "s de rl de cv",
    "sab de cv", "sapi de cv", "lda", "ltda", "eireli", "me", "epp", "sociedad anonima",
    "societa per azioni",
    # Nordic
    "ab", "ab publ", "publ", "as", "asa", "aps", "oy", "oyj", "hf", "ehf", "ks", "is",
    # Central and Eastern Europe, Russia, Turkey, Greece
    "sp z oo", "spzoo", "sro", "spol sro", "spol s ro", "kft", "zrt", "nyrt", "doo", "dd", "ad", "ood", "eood",
    "ooo", "oao", "zao", "pao", "ao", "as", "anonim sirketi", "ltd sti", "ae", "epe", "oe", "ike",
    # Asia and elsewhere
    "kk", "gk", "yk", "kabushiki kaisha", "godo kaisha", "co ltd", "corp ltd", "sdn bhd", "bhd",
    "berhad", "tbk", "pt tbk", "jsc", "pjsc", "ojsc", "cjsc", "saog", "saoc", "psc", "wll", "fzco",
    "fze", "fzllc", "fz llc", "llc fz",
    # The long forms, written out
    "aktiengesellschaft", "gesellschaft mit beschrankter haftung", "kommanditgesellschaft",
    "societe anonyme", "societe par actions simplifiee", "societe a responsabilite limitee",
    "sociedad limitada", "naamloze vennootschap", "besloten vennootschap", "aktiebolag",
    "aktieselskab", "aksjeselskap", "osakeyhtio", "julkinen osakeyhtio", "spolka z oo",
)  # fmt: skip
# Legal forms written before the name (Indonesia "PT Astra", Russia "OOO Romashka", Japan
# "Kabushiki Kaisha Toshiba"): removed from the start as well.
LEADING_FORMS: tuple[str, ...] = (
    "pt", "cv", "ooo", "oao", "zao", "pao", "ao", "kabushiki kaisha", "kk", "jsc", "pjsc",
)  # fmt: skip

# Abbreviations that stand for one word only, written out so that "Acme Mfg" is "Acme
# Manufacturing"; "Centre" is spelt the American way. Ambiguous ones ("St", "Tech") are left alone.
ABBREVIATIONS: dict[str, str] = {
    "intl": "international", "natl": "national", "mfg": "manufacturing", "mfrs": "manufacturers",
    "svcs": "services", "svc": "service", "bros": "brothers", "assoc": "associates",
    "assn": "association", "hldgs": "holdings", "hldg": "holding", "mgmt": "management",
    "ctr": "center", "centre": "center", "univ": "university", "grp": "group", "labs": "laboratories",
    "lab": "laboratory", "sys": "systems", "dept": "department", "engg": "engineering",
}  # fmt: skip

# Names that say the company is not known, as CRM exports and partners' lists fill an empty field.
# They tell no company apart, so two of them matching would be a false overlap that someone acts on:
# a placeholder is no name (normalised to nothing, like "-" or "?"), and a row holding one matches
# by its domain or not at all. Compared in the normalised form, so that case, punctuation, spacing
# and a legal form ("N/A", "n.a.", "[Not provided]", "Unknown Inc.", "No Company") are caught. Kept
# short and explicit: a real name, however short ("IBM", "3M", "HP"), never belongs here.
PLACEHOLDER_NAMES: tuple[str, ...] = (
    "Unknown", "N/A", "None", "Null", "TBD", "TBC", "Test", "Test Account", "No Company",
    "No Name", "Not Provided", "Not Available", "Not Applicable", "-", "?",
)  # fmt: skip

# Letters that Unicode decomposition leaves alone (NFKD turns "é" into "e" + an accent, not these).
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th",
                       "ł": "l", "ı": "i", "ħ": "h"})  # fmt: skip
_WEB_TAIL = re.compile(r"\.(com|net|org|io|co|ai)\b\.?")  # "Amazon.com" is Amazon
_JOINED = str.maketrans("", "", ".'’`´")  # dots and apostrophes join: "S.A." -> "SA"
_AND = str.maketrans({"&": " and ", "+": " and "})
# Anything but a letter or a digit, of any script: "Яндекс" and "阿里巴巴" are names too (an ASCII-only
# class left them empty, and every such name matched every other by name).
_NOT_WORD = re.compile(r"[\W_]+")


def _forms(forms: tuple[str, ...], at: int) -> dict[str, tuple[tuple[str, ...], ...]]:
    """The forms by their last (``at=-1``) or first (``at=0``) word, longest first: a name is
    checked only against the forms that end (or start) with its own last (or first) word."""
    by_word: dict[str, list[tuple[str, ...]]] = {}
    for form in sorted({tuple(f.split()) for f in forms}, key=lambda t: (-len(t), t)):
        by_word.setdefault(form[at], []).append(form)
    return {word: tuple(found) for word, found in by_word.items()}


_TRAILING, _LEADING = _forms(LEGAL_FORMS, -1), _forms(LEADING_FORMS, 0)


def fold(text: str) -> str:
    """Lower case without accents: ``"Société Générale"`` -> ``"societe generale"``."""
    if text.isascii():
        return text.lower()  # most names: nothing to decompose
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _join_letters(tokens: list[str]) -> list[str]:
    """Runs of single letters become one word: ``j p morgan`` -> ``jp morgan``, ``a s`` -> ``as``."""
    if all(len(t) > 1 for t in tokens):
        return tokens  # most names
    out: list[str] = []
    run = ""
    for token in tokens:
        if len(token) == 1 and token.isalpha():
            run += token
            continue
        if run:
            out.append(run)
            run = ""
        out.append(token)
    if run:
        out.append(run)
    return out


def _strip_forms(tokens: list[str]) -> list[str]:
    """Drop legal forms (and a dangling "and" before one: "Smith & Co") from the end, then the
    forms written first from the start, never leaving the name empty."""
    end = len(tokens)  # the name is tokens[:end]: cut once, however many forms go (no copy per form)
    changed = True
    while changed and end:
        changed = False
        for form in _TRAILING.get(tokens[end - 1], ()):
            n = len(form)
            if end > n and tuple(tokens[end - n : end]) == form:
                end -= n
                while end > 1 and tokens[end - 1] == "and":
                    end -= 1
                changed = True
                break
    tokens = tokens[:end]
    for form in _LEADING.get(tokens[0], ()) if tokens else ():
        n = len(form)
        if len(tokens) > n and tuple(tokens[:n]) == form:
            return tokens[n:]
    return tokens


def _tokens(name: str) -> tuple[str, ...]:
    text = _WEB_TAIL.sub(" ", fold(name))
    text = text.translate(_JOINED).translate(_AND)
    tokens = [ABBREVIATIONS.get(t, t) for t in _join_letters(_NOT_WORD.sub(" ", text).split())]
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    # A parenthesised legal form ("AB (publ)", "(Pty) Ltd") is a form like any other: the
    # parentheses went with the punctuation above.
    return tuple(_strip_forms(tokens))


_PLACEHOLDERS = frozenset(_tokens(p) for p in PLACEHOLDER_NAMES)


@lru_cache(maxsize=1 << 18)  # a partner list repeats our names: each is normalised once
def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a company name once normalised (see :func:`normalise_name`); none for a
    placeholder (:data:`PLACEHOLDER_NAMES`)."""
    tokens = _tokens(name)
    return () if tokens in _PLACEHOLDERS else tokens


def normalise_name(name: str) -> str:
    """A company name with what never tells two companies apart removed: accents, case,
    punctuation, ``&``/``and``, a leading "The" and legal forms (Inc, GmbH, Pty Ltd, S.A., ...).

    >>> normalise_name("The Ünion Bridge & Co., Ltd.")
    'union bridge'
    >>> normalise_name("Müller & Söhne GmbH & Co. KG")
    'muller and sohne'
    >>> normalise_name("Inc.")
    'inc'
    >>> normalise_name("«Яндекс»"), normalise_name("阿里巴巴")
    ('яндекс', '阿里巴巴')

    A placeholder (:data:`PLACEHOLDER_NAMES`) is no name:

    >>> normalise_name("N/A"), normalise_name("[Unknown]"), normalise_name("IBM")
    ('', '', 'ibm')
    """
    return " ".join(name_tokens(name))


def compact_name(name: str) -> str:
    """The normalised name without spaces: ``Coca Cola`` and ``CocaCola`` are one name."""
    return "".join(name_tokens(name))


def similarity(left: str, right: str) -> float:
    """How alike two company names are, 0 to 100 (100: the same normalised name), rounded to one
    decimal so that the score a report prints is the score compared with the threshold. No name
    (no letter or digit, or a placeholder) is like no other: 0.

    >>> similarity("Acme Inc.", "ACME Corporation")
    100.0
    >>> similarity("General Electric", "General Mills") < 80
    True
    >>> similarity("Unknown", "unknown"), similarity("-", "?")
    (0.0, 0.0)
    """
    return score_names(
        (compact_name(left), normalise_name(left)), (compact_name(right), normalise_name(right))
    )


def score_names(left: tuple[str, str], right: tuple[str, str]) -> float:
    """:func:`similarity` of two names already normalised, each given as (compact, normalised): 0
    when either is no name, 100 when the compact forms are equal, else :func:`score_normalised`."""
    (a_compact, a_norm), (b_compact, b_norm) = left, right
    if not a_compact or not b_compact:
        return 0.0
    if a_compact == b_compact:
        return 100.0
    return score_normalised(a_norm, b_norm)


def score_normalised(left: str, right: str) -> float:
    """:func:`similarity` of two names already normalised (the matcher's inner loop)."""
    return round(fuzz.ratio(left, right), 1)


def typo_of(left: str, right: str) -> bool:
    """Could one normalised word be the other with a typo? Equal; or, with the same first letter
    (a typo rarely hits it, while "Dale" and "Vale", "Bridge" and "Ridge" are other words): two
    neighbouring letters swapped, a letter missing or added in a word of 4 letters or more, one
    letter wrong in a word of 6 or more, or two such slips in a word of 8 or more.

    >>> typo_of("logistcs", "logistics"), typo_of("bya", "bay"), typo_of("park", "pass")
    (True, True, False)
    """
    if left == right:
        return True
    if not left or not right or left[0] != right[0]:
        return False
    shortest = min(len(left), len(right))
    slips = OSA.distance(left, right)
    if slips == 1:
        edits = Levenshtein.distance(left, right)
        if edits == 2:  # one transposition
            return shortest >= 3
        if len(left) == len(right):  # one substitution
            return shortest >= 6
        return shortest >= 4  # one letter missing or added
    return slips == 2 and shortest >= 8


def same_words(left: str, right: str) -> bool:
    """Do two normalised names have the same words in the same order, up to a typo in each
    (:func:`typo_of`)? "and" is ignored. An added or missing word ("Acme Logistics UK",
    "Goldman Sachs Group") is not a typo: such a pair is for a person to judge.

    >>> same_words("nortwhind bay logistics", "northwind bay logistics")
    True
    >>> same_words("crescent dale financial", "crescent vale financial")
    False
    """
    a = [w for w in left.split() if w != "and"]
    b = [w for w in right.split() if w != "and"]
    return len(a) == len(b) and all(typo_of(x, y) for x, y in zip(a, b, strict=True))
