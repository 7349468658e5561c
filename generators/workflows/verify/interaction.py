"""One mocked exchange, as every reader hands it on: where it is and what it claims."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from freshmock.generators.drift.windows import NO_BODY
from freshmock.proxy.errors import FreshmockError


class MockFileError(FreshmockError):
    """A mock file that cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class PathMatcher:
    """How a mock picks its request path: an exact path, a template or a regex."""

    kind: str  # "exact" (/orders/17), "template" (/orders/{id}), "regex"
    value: str
    with_query: bool = False  # a regex over path and query (WireMock urlPattern)


@dataclass
class ValueRule:
    """A Pact matcher that constrains values, not only types (checked on kept bodies)."""

    path: str  # drift-style JSON path: $.items[].sku
    kind: str  # "regex", "equality", "include", "min", "max"
    expected: object


@dataclass
class MockInteraction:
    source: Path
    line: int  # 1-based line of the interaction in its file
    entry: str  # where it is inside the file, in the format's own words
    format: str  # "wiremock", "vcr", "responses", "openapi", "pact"
    method: str  # upper case; "ANY" matches every method
    path: PathMatcher
    status: int | None  # None: the mock accepts any status of the class in status_class
    media_type: str | None  # normalised (lower case, no parameters); "" no body
    body: object = None  # the parsed JSON body the mock returns, if any
    claim: dict | None = None  # statistics node of what the body claims (see claims.py)
    permissive: bool = False  # claim lists types it accepts, not ones it always sends
    operation: str = ""  # operation discriminator the request carries ("" none)
    status_class: int | None = None  # e.g. 2 for a Pact statusCode "success" matcher
    value_rules: list[ValueRule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be read, in words
    handle: dict = field(default_factory=dict)  # what --fix needs to find the bytes again

    def describe(self) -> str:
        status = self.status if self.status is not None else f"{self.status_class}xx"
        operation = f" [{self.operation}]" if self.operation else ""
        return f"{self.method} {self.path.value}{operation} → {status}"

    def location(self) -> str:
        return f"{self.source}:{self.line}"


def normalise_media_type(value: str | None) -> str | None:
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower()


def answer_media_type(content_type: str | None, has_body: bool) -> str | None:
    """The media type an answer is filed under, as ``diff`` files it.

    An answer without a body (a 204, ``Content-Length: 0``) has no media type
    contract: the store files it under ``diff.NO_BODY`` whatever its
    Content-Type header says, so a mock of one must be matched there too.
    """
    return normalise_media_type(content_type) if has_body else NO_BODY
