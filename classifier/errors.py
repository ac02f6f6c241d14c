"""Every error swarmlens raises on purpose, gathered in one place with a code.

Codes are stable: scripts and the API may match on them. Messages say what went
wrong and what to do about it.
"""

from __future__ import annotations


class SwarmlensError(Exception):
    """Base class: an error with a stable code (``E###``) and a helpful message."""

    code: str = "E000"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.code}] {message}")
        self.message = message


class InputError(SwarmlensError):
    """An input file or record cannot be used (unreadable, empty, wrong format)."""

    code = "E001"


class RecordError(SwarmlensError):
    """One record is malformed; readers send it to the rejects file and go on."""

    code = "E002"


class TrainingDataError(SwarmlensError):
    """Training data cannot train a model (unknown label, a single class, no text)."""

    code = "E003"


class ModelNotFoundError(SwarmlensError):
    """A ``--model`` reference names no registered version and no artifact on disk."""

    code = "E004"


class IntegrityError(SwarmlensError):
    """An artifact's SHA-256 does not match its manifest entry: it is never unpickled."""

    code = "E005"


class NotFittedError(SwarmlensError, ValueError, AttributeError):
    """An estimator was asked to predict before ``fit``.

    A ValueError and an AttributeError, like scikit-learn's, without importing
    scikit-learn (processes that only read archives stay light).
    """

    code = "E006"


class OutputError(SwarmlensError):
    """An output path cannot be written or has an unsupported form."""

    code = "E007"
