"""The error types of Panjereh.

Every error we raise on purpose derives from :class:`PanjerehError`, so an outer
layer (HTTP handler, CLI, worker) can tell "we refused this" from "we crashed"
with one ``except`` clause. :class:`InvalidValue` carries a stable ``code`` for
machines and a Persian and an English sentence for people, because the same
refusal is shown in the citizen window (fa), in English pages and in API
responses.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InvalidValue", "PanjerehError"]


class PanjerehError(Exception):
    """The one base class of every error Panjereh raises deliberately."""


class InvalidValue(PanjerehError, ValueError):
    """A value from outside (a form, a request, a file) was refused.

    It is also a :class:`ValueError` so that code written against the standard
    library's conventions (``except ValueError``) keeps working.

    ``code`` is a stable slug such as ``"national-code.checksum"``: API clients
    and tests match on it, never on the wording. ``field`` names the form or
    payload field when the caller knows it; the parsers leave it ``None``.
    The messages never echo the refused value, because identifiers are
    personal data and errors end up in logs.
    """

    code: str
    message_fa: str
    message_en: str
    field: str | None

    def __init__(
        self,
        code: str,
        *,
        message_fa: str,
        message_en: str,
        field: str | None = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_fa = message_fa
        self.message_en = message_en
        self.field = field

    def __str__(self) -> str:
        return self.message_en

    def __repr__(self) -> str:
        return f"InvalidValue(code={self.code!r}, field={self.field!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments defeat the default exception pickling, and
        # errors cross process boundaries (workers, multiprocessing).
        return (_rebuild_invalid_value, (self.code, self.message_fa, self.message_en, self.field))

    def message(self, lang: str) -> str:
        """Return the message for ``lang``: English for ``en``/``en-*``, else Persian.

        Persian is the default because the citizen window is Persian first.
        """
        return self.message_en if is_english(lang) else self.message_fa


def is_english(lang: str) -> bool:
    """Tell whether a language tag (``en``, ``en-US``, ``en_GB``) asks for English."""
    primary = lang.replace("_", "-").split("-", 1)[0]
    return primary.casefold() == "en"


def _rebuild_invalid_value(
    code: str, message_fa: str, message_en: str, field: str | None
) -> InvalidValue:
    return InvalidValue(code, message_fa=message_fa, message_en=message_en, field=field)
