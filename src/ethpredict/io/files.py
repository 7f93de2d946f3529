"""Finding and reading a data file's bytes: the files of a folder; gzip told
by content, not by name; a truncated or corrupt file, a BOM, a symlink loop
each explained in one line (docs/data.md, "Formats recognised"); whether a
cell is a number; the symbol a file name carries."""

from __future__ import annotations

import errno
import gzip
import os
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from ethpredict.errors import DataValidationError

GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"


def is_gzip(path: Path) -> bool:
    """Whether the file starts with gzip's magic bytes (whatever its name)."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def check_path(path: str | Path, param: str = "data.path") -> Path:
    """``path`` (of parameter ``param``), refused in one line when missing or
    a symlink loop."""
    p = Path(path)
    try:
        os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataValidationError(
                f"{param} '{p}' is a symlink loop (a link that points back to "
                "itself); point it at the real file or folder"
            ) from None
        raise DataValidationError(f"{param} '{p}' does not exist") from None
    return p


def list_files(
    path: str | Path, suffixes: tuple[str, ...], what: str, sniff=None
) -> list[Path]:
    """One file, or the matching files of a folder (not recursive), sorted.

    ``sniff(file) -> bool`` admits a folder's files of other names by content.
    """
    p = check_path(path)
    if p.is_file():
        return [p]
    files = sorted(
        f
        for f in p.iterdir()
        if f.is_file() and (f.name.endswith(suffixes) or (sniff and sniff(f)))
    )
    if not files:
        raise DataValidationError(
            f"data.path '{p}' holds no {what} files (looked for {', '.join(suffixes)})"
        )
    return files


def gunzip(raw: bytes, label: str) -> bytes:
    """``raw`` decompressed, or one line on a truncated or corrupt stream."""
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataValidationError(
            "gzip file is truncated (the download or copy did not finish)", file=label
        ) from None
    except (OSError, zlib.error) as exc:
        raise DataValidationError(
            f"not a valid gzip file ({exc})", file=label
        ) from None


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a number (a header cell does not)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it is gzip (by its magic bytes),
    without a leading UTF-8 BOM."""
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        raw = gunzip(raw, str(path))
    elif path.name.endswith(".gz"):
        raise DataValidationError(
            "not a valid gzip file (it does not start with gzip's bytes 1f 8b)",
            file=str(path),
        )
    return raw.removeprefix(BOM)


@contextmanager
def open_text(path: Path) -> Iterator[TextIO]:
    """The file as streamed text (UTF-8, BOM dropped; gunzipped when gzip by
    its magic bytes); a truncated or corrupt stream is one line."""
    label = str(path)
    gz = is_gzip(path)
    if not gz and path.name.endswith(".gz"):
        read_bytes(path)  # raises: not gzip
    try:
        with (
            gzip.open(path, "rt", encoding="utf-8-sig")
            if gz
            else open(path, encoding="utf-8-sig")
        ) as fh:
            yield fh
    except EOFError:
        raise DataValidationError(
            "gzip file is truncated (the download or copy did not finish)", file=label
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataValidationError(
            f"not a valid gzip file ({exc})", file=label
        ) from None
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"not UTF-8 text ({exc.reason}); expected CSV or JSON text", file=label
        ) from None


#: ETH against a quote currency in a file name: ETHUSDC-1m-2024-01.zip,
#: ETH_USDT-1m.feather, ETH-USD.csv, WETH/USDC (a pool), XETHZUSD (Kraken)
_SYMBOL = re.compile(
    r"(?<![A-Z])X?W?ETHZ?[_\-/]?(USDT|USDC|FDUSD|BUSD|DAI|USD|EUR|BTC)(?![A-Z])", re.I
)


def symbol_of(names: list[str]) -> str | None:
    """``ETH`` + the quote currency the file names (their last path part)
    carry, when they all agree; else None."""
    found = {
        f"ETH{m.group(1).upper()}"
        for n in names
        if (m := _SYMBOL.search(Path(str(n).split(":")[0]).name))
    }
    return found.pop() if len(found) == 1 else None


def quote_of(symbol: str) -> str | None:
    """The quote currency of an ETH symbol (``ETHUSDC`` → ``USDC``)."""
    m = re.fullmatch(r"W?ETH(\w+)", symbol.upper())
    return m.group(1) if m else None
