"""Errors a user can act on.

Every exception derived from :class:`ETHPredictError` carries a complete,
one-paragraph message; the command line prints that message alone (no
traceback) and exits with status 1.
"""

from __future__ import annotations

from kedro.io.core import DatasetError


class ETHPredictError(Exception):
    """An error caused by input or configuration, explained in its message."""


class ParameterError(ETHPredictError, ValueError):
    """One or more parameters are unknown, of the wrong type or out of range."""


class DataValidationError(ETHPredictError, ValueError):
    """Input market data is malformed.

    Args:
        message: What is wrong and what was expected.
        file: The file (or ``archive.zip:member.csv``) the problem is in.
        row: The 1-based line number in that file, header included.
        column: The column name.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.row, self.column = file, row, column
        where = [
            part
            for part in (
                str(file) if file is not None else None,
                f"line {row}" if row is not None else None,
                f"column '{column}'" if column is not None else None,
            )
            if part
        ]
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class DownloadError(ETHPredictError):
    """A download failed, or a downloaded file does not match its checksum."""


class UntrustedFileError(ETHPredictError, DatasetError):
    """A model file holds types the project never writes: it is not loaded.
    A Kedro ``DatasetError`` too (the catalog puts the dataset's name in
    front of its one line)."""
