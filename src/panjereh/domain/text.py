"""Persian text normalization: one implementation for identifiers, display and search.

Persian text reaches us typed on Arabic keyboards, pasted from Word, OCR'd or
sent by other agencies' systems. The same word then arrives with Arabic yeh
(ي) or kaf (ك), Persian or Arabic-Indic digits, tatweel, odd spaces and stray
zero-width characters. Comparing, validating or searching such text without a
single normalization step gives wrong answers, so every module goes through the
functions below.

Two levels on purpose:

* :func:`normalize` keeps the text *as the person wrote it* apart from
  invisible or keyboard-caused differences. It is safe to store and display:
  it keeps diacritics, ZWNJ between letters, hamza forms, ``ة`` and
  presentation forms (NFC only).
* :func:`search_key` is lossy and only for matching: it folds presentation
  forms (NFKC), removes diacritics and ZWNJ, folds hamza/alef variants and
  case. Never show or store it as the person's text.

All functions accept any ``str`` (including lone surrogates and control
characters) and never raise.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ascii_digits",
    "identifier_text",
    "normalize",
    "number_text",
    "persian_digits",
    "search_key",
]

ZWNJ = "\u200c"
ZWJ = "\u200d"

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_ASCII_DIGITS = "0123456789"

_TO_ASCII_DIGITS = str.maketrans(
    _PERSIAN_DIGITS + _ARABIC_INDIC_DIGITS, _ASCII_DIGITS + _ASCII_DIGITS
)
_TO_PERSIAN_DIGITS = str.maketrans(_ASCII_DIGITS, _PERSIAN_DIGITS)

# Letters that Arabic keyboards and old encodings produce for Persian ones.
# ``ة`` (teh marbuta) is a real letter in Arabic loanwords ("دایرةالمعارف"),
# so normalize keeps it; search_key folds it to ``ه``.
_LETTERS = {
    "\u064a": "\u06cc",  # ARABIC LETTER YEH -> ARABIC LETTER FARSI YEH
    "\u0649": "\u06cc",  # ARABIC LETTER ALEF MAKSURA -> FARSI YEH
    "\u0643": "\u06a9",  # ARABIC LETTER KAF -> KEHEH (Persian kaf)
    "\u06d5": "\u0647",  # ARABIC LETTER AE (Kurdish/Uyghur heh) -> HEH
}

# Invisible characters with no meaning in a single-line Persian field:
# tatweel (elongation), zero-width space, BOM, bidi marks, embeddings and
# isolates. ZWNJ is meaningful (half-space) and is handled separately; ZWJ is
# kept by normalize because emoji sequences need it.
_REMOVED = (
    "\u0640"  # ARABIC TATWEEL
    "\u200b"  # ZERO WIDTH SPACE
    "\ufeff"  # ZERO WIDTH NO-BREAK SPACE / BOM
    "\u200e\u200f"  # LRM, RLM
    "\u061c"  # ARABIC LETTER MARK
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\u00ad"  # SOFT HYPHEN
)

_NORMALIZE_TABLE = str.maketrans(
    {
        **{ord(k): v for k, v in _LETTERS.items()},
        **{ord(c): None for c in _REMOVED},
        **{
            ord(src): dst
            for src, dst in zip(
                _PERSIAN_DIGITS + _ARABIC_INDIC_DIGITS, _ASCII_DIGITS * 2, strict=True
            )
        },
    }
)

# Folds that are right for matching but wrong for display.
_SEARCH_FOLDS = {
    "\u0622": "\u0627",  # آ -> ا
    "\u0623": "\u0627",  # أ -> ا
    "\u0625": "\u0627",  # إ -> ا
    "\u0671": "\u0627",  # ٱ (alef wasla) -> ا
    "\u0624": "\u0648",  # ؤ -> و
    "\u0626": "\u06cc",  # ئ -> ی ("پائیز" finds "پاییز")
    "\u0629": "\u0647",  # ة -> ه
    "\u06c0": "\u0647",  # ۀ -> ه ("خانۀ" finds "خانه")
}
# Harakat, tanwin, shadda, sukun, maddah/hamza marks (U+064B-U+065F),
# superscript alef (U+0670), Quranic honorifics (U+0610-U+061A) and Quranic
# annotation marks (U+06D6-U+06ED), plus ZWNJ/ZWJ so "می‌خواهم" == "میخواهم".
_SEARCH_REMOVED = (
    [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670"]
    + [chr(c) for c in range(0x0610, 0x061B)]
    + [chr(c) for c in range(0x06D6, 0x06EE)]
    + [ZWNJ, ZWJ]
)
_SEARCH_TABLE = str.maketrans(
    {
        **{ord(k): v for k, v in _SEARCH_FOLDS.items()},
        **{ord(c): None for c in _SEARCH_REMOVED},
    }
)

# Dash-like characters people type or paste between groups of digits.
_DASHES = (
    "-"  # HYPHEN-MINUS
    "\u2010\u2011\u2012\u2013\u2014\u2015"  # hyphen .. horizontal bar
    "\u2212"  # MINUS SIGN
    "\ufe58\ufe63\uff0d"  # small/fullwidth dashes
    "\u06d4"  # ARABIC FULL STOP (looks like a dash on some keyboards)
)
_IDENTIFIER_TABLE = str.maketrans({ord(c): None for c in _DASHES + " " + ZWNJ + ZWJ})

# A run of whitespace, together with any ZWNJ touching it, becomes one space:
# a half-space next to a full space is always a typing accident.
_SPACE_RUN = re.compile(r"[\s\u200c]*\s[\s\u200c]*")
_ZWNJ_RUN = re.compile("\u200c{2,}")
# One pass almost always reaches the fixed point; the bound makes termination
# obvious.
_MAX_SEARCH_PASSES = 4


def normalize(text: str) -> str:
    """Return ``text`` with keyboard and encoding differences removed.

    Arabic yeh/kaf become Persian ones, digits become ASCII, tatweel and
    invisible marks go, every whitespace run (NBSP, thin space, tabs,
    newlines...) becomes one space, ZWNJ runs collapse and ZWNJ next to a space
    or at either end is dropped, and the result is NFC. Diacritics stay.
    Newlines are collapsed too: this is for single-line fields and search.
    """
    # NFC first so decomposed hamza forms (ي + ٔ) compose before yeh is mapped;
    # NFC again because removing tatweel may bring a letter and a mark together.
    text = unicodedata.normalize("NFC", text).translate(_NORMALIZE_TABLE)
    text = unicodedata.normalize("NFC", text)
    return _tidy_spaces(text)


def search_key(text: str) -> str:
    """Return the key under which ``text`` is indexed and searched.

    On top of :func:`normalize`: NFKC (so presentation forms such as ``ﻻ`` and
    full-width Latin match their base letters), case folding, removal of
    diacritics, ZWNJ and ZWJ, and the folds آ/أ/إ/ٱ→ا, ؤ→و, ئ→ی, ة→ه, ۀ→ه.
    Idempotent: ``search_key(search_key(x)) == search_key(x)``.
    """
    # Case folding and NFKC can each undo the other's fixed point on rare
    # characters, so repeat the cheap pipeline until nothing changes.
    for _ in range(_MAX_SEARCH_PASSES):
        folded = _search_pass(text)
        if folded == text:
            break
        text = folded
    return text


def _search_pass(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = normalize(text).translate(_SEARCH_TABLE)
    return _tidy_spaces(unicodedata.normalize("NFKC", text))


def ascii_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII ones; nothing else."""
    return text.translate(_TO_ASCII_DIGITS)


def persian_digits(text: str) -> str:
    """Replace ASCII digits with Persian ones (۰-۹) for Persian views."""
    return text.translate(_TO_PERSIAN_DIGITS)


PERSIAN_THOUSANDS = "\u066c"  # ٬ ARABIC THOUSANDS SEPARATOR
PERSIAN_DECIMAL = "\u066b"  # ٫ ARABIC DECIMAL SEPARATOR


def number_text(value: int | float, lang: str, *, decimals: int | None = None) -> str:
    """A number as a page in ``lang`` writes it, thousands grouped: ``۱٬۲۹۹`` and ``۳٫۲۵`` in
    Persian (U+066C and U+066B, never the Latin comma or the Persian «،»), ``1,299`` and
    ``3.25`` in English. Floats get ``decimals`` places (default: up to three, trailing zeros
    dropped, no exponent). Every page formats its numbers here, so the two languages agree.
    """
    if isinstance(value, float):
        places = 3 if decimals is None else decimals
        text = f"{value:,.{places}f}"
        if decimals is None and "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{value:,}"
    if lang.replace("_", "-").split("-", 1)[0].casefold() == "en":
        return text
    grouped = text.replace(",", PERSIAN_THOUSANDS).replace(".", PERSIAN_DECIMAL)
    return persian_digits(grouped)


def identifier_text(raw: str) -> str:
    """Return ``raw`` normalized and stripped of spaces, zero-width characters and dashes.

    People write identifiers in groups ("۰۰۱-۳۵۴۲۴۱-۹", "0912 123 4567"); the
    parsers then validate the result with ASCII-only patterns. Dots, slashes
    and other punctuation are kept, so they fail validation instead of being
    silently accepted.
    """
    return normalize(raw).translate(_IDENTIFIER_TABLE)


def _tidy_spaces(text: str) -> str:
    text = _SPACE_RUN.sub(" ", text)
    text = _ZWNJ_RUN.sub(ZWNJ, text)
    return text.strip(" " + ZWNJ)
