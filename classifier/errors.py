"""Every error swarmlens raises on purpose, gathered in one place with a code and an HTTP status.

Codes are stable: scripts and the API match on them. Messages say what went wrong and
what to do about it. The API turns each into one JSON body shape,
``{"code": "E004", "message": "...", "detail": ...}``, with ``http_status`` as its status;
the CLI prints ``error: [E004] ...`` and exits with status 2.

| code | class | HTTP |
|------|-------|------|
| E001 | InputError: an input file, path or parameter cannot be used | 400 |
| E002 | RecordError: one record is malformed (batch jobs reject it and go on) | 422 |
| E003 | TrainingDataError: labelled data cannot train a model | 400 |
| E004 | ModelNotFoundError: no such model version or artifact | 404 |
| E005 | IntegrityError: an artifact's SHA-256 does not match; never loaded | 500 |
| E006 | (retired: scikit-learn's ``NotFittedError`` is raised instead) | - |
| E007 | OutputError: an output path cannot be written | 400 |
| E008 | QueryError: a query cannot be answered as asked | 400 |
| E009 | StoreLockedError: another process owns the database file | 503 |
| E010 | BindError: refusing to listen on a public address without API keys | 400 |
| E011 | AnnotationError: Label Studio unreachable or refusing | 502 |
| E012 | OverloadedError: the server is at its in-flight limit | 503 |
| E013 | AuthenticationError: the endpoint needs an API key | 401 |
| E014 | ForbiddenError: the API key is not accepted | 403 |
| E015 | PayloadTooLargeError: too many posts or too many bytes in one request | 413 |
| E016 | RequestValidationError: a request field is missing or invalid | 422 |
| E017 | HTTPError: any other HTTP-level refusal (unknown route, wrong method) | 4xx |
| E018 | ArtifactFormatError: a model file is not a v2 artifact (an old pickle...) | 500 |
| E019 | InternalError: an unexpected failure (a bug); the server logs its traceback | 500 |
| E020 | AuditError: audit labels cannot be used (stray post, unknown label, too few) | 400 |
| E021 | AuditConflictError: an audit id already names another hashtag or window | 409 |
| E030 | BodyTimeoutError: the request body did not arrive within body_timeout | 408 |
| E031 | HostNotAllowedError: the Host header is no loopback name nor an allowed host | 421 |
| E032 | ClientOverloadedError: one client holds max_inflight_per_client requests | 429 |
| E033 | DatasetGoneError: an attached dataset's files are missing or unreadable | 409 |
| E034 | DatasetNotFoundError: no attached dataset has this id | 404 |
| E040 | WorkBusyError: the pool for expensive work (explain, network) is full | 503 |
| E041 | WorkTimeoutError: expensive work did not finish within its time limit | 503 |
| E045 | StoreDamagedError: the store's DuckDB file is damaged or no database | 503 |
| E046 | StoreFullError: the store cannot write (data disk full); retry later | 503 |
| E050 | GoldError: a gold file holds no usable known answer | 400 |
| E051 | OverlapConflictError: the project uses Label Studio's own project-wide overlap | 409 |
| E052 | AnnotatorError: no such Label Studio user, or a language code is malformed | 400 |
| E053 | AnnotationStoreError: the local annotation store (gold, annotators) is unreadable | 400 |
| E054 | NoGoldError: --gold-rate asked but no gold answer is left to mix in | 400 |

Exit statuses of the ``swarmlens`` command:

| status | meaning |
|--------|---------|
| 0 | done |
| 1 | an unexpected failure (a bug: the traceback is printed) |
| 2 | an error above (``error: [E###] ...``), or a command line typer cannot parse |
| 3 | ``score``: the inputs yielded no post at all (``EXIT_NO_POSTS``) |

"No post at all" is a ``score`` whose scored count is 0: every record rejected, or no
record there (an empty file, an image renamed ``.jsonl``). The output and summary are
still written (``--json`` prints it), and one warning line on stderr says so.
"""

from __future__ import annotations

from typing import Any, ClassVar

EXIT_ERROR = 2
"""Exit status of a command that stopped on a SwarmlensError (or an invalid setting)."""
EXIT_NO_POSTS = 3
"""Exit status of ``score`` when its inputs yielded no post at all (nothing was scored)."""


class SwarmlensError(Exception):
    """Base class: an error with a stable code (``E###``), a helpful message and an HTTP status."""

    code: str = "E000"
    http_status: int = 400

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(f"[{self.code}] {message}")
        self.message = message
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (batch workers): rebuild them from their parts,
        # not from ``args``, which already hold the code.
        return (_rebuild, (type(self), self.message, self.detail, self.http_status))

    def body(self) -> dict[str, Any]:
        """The API's error body: the same three fields for every error."""
        return {"code": self.code, "message": self.message, "detail": self.detail or self.message}


def _rebuild(
    kind: type[SwarmlensError], message: str, detail: Any, status: int
) -> SwarmlensError:
    error = kind.__new__(kind)
    Exception.__init__(error, f"[{kind.code}] {message}")
    error.message, error.detail, error.http_status = message, detail, status
    return error


class InputError(SwarmlensError):
    """An input file, path or parameter cannot be used (unreadable, empty, wrong format)."""

    code = "E001"


class RecordError(SwarmlensError):
    """One record is malformed; readers send it to the rejects file and go on."""

    code = "E002"
    http_status = 422


class TrainingDataError(SwarmlensError):
    """Training data cannot train a model (unknown label, a single class, no text)."""

    code = "E003"


class ModelNotFoundError(SwarmlensError):
    """A ``--model`` reference names no registered version and no artifact on disk."""

    code = "E004"
    http_status = 404


class IntegrityError(SwarmlensError):
    """An artifact's SHA-256 does not match its manifest entry: it is never loaded."""

    code = "E005"
    http_status = 500


class OutputError(SwarmlensError):
    """An output path cannot be written or has an unsupported form."""

    code = "E007"


class QueryError(SwarmlensError):
    """A query's parameters cannot be answered as asked (bad interval, label, range)."""

    code = "E008"


class StoreLockedError(SwarmlensError):
    """Another process holds the database file."""

    code = "E009"
    http_status = 503


class BindError(SwarmlensError):
    """The server would listen on a non-loopback address with no API keys set."""

    code = "E010"


class AnnotationError(SwarmlensError):
    """Label Studio cannot be reached or refuses what was asked."""

    code = "E011"
    http_status = 502


class OverloadedError(SwarmlensError):
    """The server is handling as many requests as it may; retry after a moment."""

    code = "E012"
    http_status = 503


class AuthenticationError(SwarmlensError):
    """The endpoint needs an API key and none was sent."""

    code = "E013"
    http_status = 401


class ForbiddenError(SwarmlensError):
    """The API key sent is not one of the server's keys."""

    code = "E014"
    http_status = 403


class PayloadTooLargeError(SwarmlensError):
    """A request holds more posts or bytes than the server accepts; split it."""

    code = "E015"
    http_status = 413


class RequestInvalidError(SwarmlensError):
    """A request field is missing or invalid; ``detail`` lists each field and what is wrong."""

    code = "E016"
    http_status = 422


class HTTPError(SwarmlensError):
    """Any other HTTP-level refusal (unknown route, wrong method...), with its status."""

    code = "E017"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.http_status = status


class InternalError(SwarmlensError):
    """Something failed that should not have: a bug. The API answers it in the usual shape."""

    code = "E019"
    http_status = 500


class ArtifactFormatError(SwarmlensError):
    """A model file is not a swarmlens artifact (an old pickle, a foreign or corrupt file)."""

    code = "E018"
    http_status = 500


class AuditError(SwarmlensError):
    """Audit labels cannot be used for an estimate: a post outside the hashtag's window,
    an unknown label, a malformed file, or too few audited posts."""

    code = "E020"


class AuditConflictError(SwarmlensError):
    """An audit id is already stored for another hashtag or window; use a new audit id."""

    code = "E021"
    http_status = 409
class BodyTimeoutError(SwarmlensError):
    """A request body stalled: it did not finish arriving within ``body_timeout`` seconds."""

    code = "E030"
    http_status = 408


class HostNotAllowedError(SwarmlensError):
    """The request's Host is not loopback nor in ``allowed_hosts`` (DNS rebinding guard)."""

    code = "E031"
    http_status = 421


class ClientOverloadedError(SwarmlensError):
    """One client already holds ``max_inflight_per_client`` requests; wait for them."""

    code = "E032"
    http_status = 429


class DatasetGoneError(SwarmlensError):
    """An attached dataset's files were deleted or moved: restore them or detach it."""

    code = "E033"
    http_status = 409


class DatasetNotFoundError(SwarmlensError):
    """No attached dataset has this id (``GET /v1/datasets`` lists them)."""

    code = "E034"
    http_status = 404


class WorkBusyError(SwarmlensError):
    """Expensive work (explanations, networks) runs in small bounded pools: this one is
    full (or the server is shutting down). Retry shortly; ``headers`` go on the answer."""

    code = "E040"
    http_status = 503
    headers: ClassVar[dict[str, str]] = {"Retry-After": "5"}


class WorkTimeoutError(SwarmlensError):
    """Expensive work did not finish within its time limit (``explain_timeout``,
    ``network_timeout``) and was stopped: ask for less (a shorter range, fewer posts)."""

    code = "E041"
    http_status = 503


class StoreDamagedError(SwarmlensError):
    """The server's DuckDB file is damaged, empty or no DuckDB database: never served over."""

    code = "E045"
    http_status = 503


class StoreFullError(SwarmlensError):
    """The store could not write (the data disk is full): nothing was stored; retry later.

    ``headers`` go on the API answer (``Retry-After``)."""

    code = "E046"
    http_status = 503
    headers: ClassVar[dict[str, str]] = {"Retry-After": "30"}


class GoldError(SwarmlensError):
    """A gold file holds no usable known answer (each needs an id, a text and a label)."""

    code = "E050"


class OverlapConflictError(SwarmlensError):
    """The project has Label Studio's own project-wide overlap settings (maximum annotations
    above 1 with a cohort below 100%): they redraw every task's overlap at each import."""

    code = "E051"
    http_status = 409


class AnnotatorError(SwarmlensError):
    """No Label Studio user has this email, or a language code is not an ISO 639 code."""

    code = "E052"


class AnnotationStoreError(SwarmlensError):
    """swarmlens's local annotation store (gold answers, annotators' languages) is unreadable."""

    code = "E053"


class NoGoldError(SwarmlensError):
    """A push asked for gold tasks but the store holds none that is not in the project yet."""

    code = "E054"
