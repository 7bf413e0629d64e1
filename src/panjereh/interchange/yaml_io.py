"""Reading and writing the registry document as YAML, with errors that name line and field.

A person editing a 30,000-line export needs "line 1841, services[212].endpoint_url: ..."; so
the reader keeps every node's line while PyYAML builds the data, and maps pydantic's error
locations and the document's cross-object problems back to lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from panjereh.domain.errors import PanjerehError
from panjereh.interchange.registry_document import (
    DocumentProblem,
    RegistryDocument,
    validation_problems,
)

Path = tuple[str | int, ...]
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Located:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line is not None else ""
        return f"{where}{self.path or 'document'}: {self.message}"


class DocumentError(PanjerehError):
    """A registry document cannot be used; `problems` says where and why (all of them)."""

    def __init__(self, problems: list[Located]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"the registry document has {len(problems)} problem(s):\n{shown}{more}")


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _lines(node: yaml.Node, path: Path, found: dict[Path, int]) -> None:
    found[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                found[(*path, key.value)] = key.start_mark.line + 1
                _lines(value, (*path, key.value), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), found)


def _line_of(path: Path, lines: dict[Path, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def parse_document(text: str, *, allow_private: bool) -> RegistryDocument:
    """Parse and fully validate a YAML (or JSON) registry document, or raise `DocumentError`."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise DocumentError([Located(None, "", "the document is larger than 64 MiB")])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentError([Located(line, "", f"not valid YAML: {problem}")]) from None
    lines: dict[Path, int] = {}
    if node is not None:
        _lines(node, (), lines)
    if not isinstance(data, dict):
        raise DocumentError([Located(1, "", "the document must be a mapping of sections")])
    try:
        document = RegistryDocument.model_validate(data, context={"allow_private": allow_private})
    except ValidationError as exc:
        raise DocumentError(list(_from_validation(exc, lines))) from None
    problems = document.problems()
    if problems:
        raise DocumentError([_from_problem(p, lines) for p in problems])
    return document


def _from_validation(exc: ValidationError, lines: dict[Path, int]) -> Iterator[Located]:
    for problem in validation_problems(exc):
        yield _from_problem(problem, lines)


def _from_problem(problem: DocumentProblem, lines: dict[Path, int]) -> Located:
    return Located(_line_of(problem.path, lines), format_path(problem.path), problem.message)


def dump_document(document: RegistryDocument) -> str:
    """YAML text that `parse_document` reads back to an equal document."""
    data = document.model_dump(mode="json")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
