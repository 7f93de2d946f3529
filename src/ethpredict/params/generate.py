"""Write ``conf/base/parameters_<pipeline>.yml`` and the tables of
``docs/parameters.md`` from the models, so a default, a range or a
description is written once (in :mod:`ethpredict.params`).

``python -m ethpredict.params.generate`` writes the files;
``python -m ethpredict.params.generate --check`` writes nothing and exits 1
listing the files that differ from what the models say.

A field may carry ``json_schema_extra={"conf": value}``: the value written to
``conf/base`` instead of the default (an interpolation such as
``${globals:symbol}``, or the sweep space shipped as an example).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import textwrap
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types as at
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ethpredict.params import Parameters

#: pipeline -> the namespaces its parameters file holds, in order
FILES: dict[str, tuple[str, ...]] = {
    "data_engineering": ("data", "features"),
    "download": ("download",),
    "download_pool": ("rpc",),
    "labeling": ("labels",),
    "modeling": ("model",),
    "market_making": ("mm", "risk"),
    "backtesting": ("backtest",),
    "reporting": ("report",),
    "sweep": ("sweep",),
}

#: prose at the top of a parameters file, beyond the namespaces' docstrings
HEADERS: dict[str, str] = {
    "data_engineering": "Market data in. Unknown keys and out-of-range values stop\n"
    "the run before any node starts.",
    "download": "kedro run --pipeline=download  (needs network; not part of the "
    "default run)",
    "download_pool": "kedro run --pipeline=download_pool --params=rpc.url=...,"
    "rpc.pool=0x...,rpc.start=2024-01-05,rpc.end=2024-01-05\n"
    "(needs a node; not part of the default run). The URL may instead come from\n"
    "conf/local/credentials.yml (rpc.url_credentials: KEY, entry `KEY: {url: ...}`)\n"
    "or the environment: rpc.url: ${oc.env:ETH_RPC_URL}",
    "modeling": "Everything after the first training window gets exactly one\n"
    "out-of-sample prediction (docs/modeling.md).",
    "sweep": "docs/sweeps.md. A run is a sweep only when n_trials is set:\n"
    "  kedro run --pipeline=backtest --params=sweep.n_trials:1000\n"
    "Each trial re-runs only the nodes downstream of the swept parameters, in\n"
    "this process, and ends with the best trial run as an ordinary run.",
}

GENERATED_NOTE = (
    "Written by `python -m ethpredict.params.generate` from src/ethpredict/params/:\n"
    "change a default or a description there, then re-run it."
)
DOCS = Path("docs") / "parameters.md"
COMMENT_COLUMN = 27
WIDTH = 88
_BLOCK = re.compile(
    r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated -->)", re.DOTALL
)


def _nested(field: FieldInfo) -> type[BaseModel] | None:
    ann = field.annotation
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _leaves(
    model: type[BaseModel], prefix: str = ""
) -> Iterator[tuple[str, FieldInfo]]:
    for name, field in model.model_fields.items():
        sub = _nested(field)
        if sub is not None:
            yield from _leaves(sub, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def _conf_value(field: FieldInfo) -> Any:
    """What conf/base sets: the field's ``conf`` extra, else its default."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "conf" in extra:
        return extra["conf"]
    return field.get_default(call_default_factory=True)


# --- YAML -----------------------------------------------------------------


def _scalar(value: Any) -> str:  # noqa: PLR0911 (one return per YAML type)
    """``value`` as YAML text (flow style), dates and durations as people write them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value) if abs(value) < 1e7 else f"{value:.6g}"
        mantissa, e, exp = text.partition("e")
        return f"{mantissa}.0e{exp}" if e and "." not in mantissa else text
    if isinstance(value, dt.timedelta):
        days, rest = divmod(value.total_seconds(), 86_400)
        if not rest:
            return f"{int(days)} day" + ("s" if days != 1 else "")
        return str(int(value.total_seconds()))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith("${"):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, (list, tuple, dict)):
        value = _plain(value)
    return (
        yaml.safe_dump(
            value,
            default_flow_style=True,
            width=10_000,
            allow_unicode=True,
            sort_keys=False,
        )
        .removesuffix("\n...\n")
        .strip()
    )


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _commented(code: str, comment: str | None) -> list[str]:
    if not comment:
        return [code]
    column = max(COMMENT_COLUMN, len(code) + 1)
    lines = textwrap.wrap(" ".join(comment.split()), max(WIDTH - column - 2, 30))
    out = [f"{code.ljust(column)}# {lines[0]}"]
    out += [f"{' ' * column}# {line}" for line in lines[1:]]
    return out


def _yaml_model(model: type[BaseModel], indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    for name, field in model.model_fields.items():
        sub = _nested(field)
        if sub is not None:
            out += _commented(f"{pad}{name}:", _first_line(sub.__doc__))
            out += _yaml_model(sub, indent + 1)
            continue
        value = _conf_value(field)
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(v, dict) for v in value.values())
        ):
            out += _commented(f"{pad}{name}:", _yaml_comment(field))
            out += [f"{pad}  {k}: {_scalar(v)}" for k, v in value.items()]
        else:
            out += _commented(f"{pad}{name}: {_scalar(value)}", _yaml_comment(field))
    return out


def _first_line(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line, without reST markup."""
    text = " ".join((doc or "").split("\n\n")[0].split())
    return re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "")


def _yaml_comment(field: FieldInfo) -> str | None:
    """A field's description, after its choices when it has a fixed set."""
    ann = field.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) is not typing.Literal and len(args) == 1:
        ann = args[0]
    choices = typing.get_args(ann) if typing.get_origin(ann) is typing.Literal else ()
    head = " | ".join(_scalar(c) for c in choices) if len(choices) <= 8 else ""
    parts = [p for p in (head, field.description) if p]
    return "; ".join(parts) or None


def _comment_block(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.splitlines()]


def render_yaml(pipeline: str) -> str:
    """The text of ``conf/base/parameters_<pipeline>.yml``."""
    out = _comment_block(GENERATED_NOTE)
    if pipeline in HEADERS:
        out += _comment_block(HEADERS[pipeline])
    for ns in FILES[pipeline]:
        model = Parameters.model_fields[ns].annotation
        doc = textwrap.wrap(_first_line(model.__doc__), WIDTH - 2)
        out += ["", *_comment_block("\n".join(doc)), f"{ns}:"]
        out += _yaml_model(model, 1)
    return "\n".join(out) + "\n"


# --- docs -------------------------------------------------------------------


def _number(v: Any) -> str:
    if isinstance(v, dt.timedelta):
        return _scalar(v) if v else "0"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e6:
        v = int(v)
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{v:g}")


def _allowed(annotation: Any, metadata: list) -> str:
    """Range, choices or kind of a field, from its type and constraints."""
    args = typing.get_args(annotation)
    optional = type(None) in args and typing.get_origin(annotation) in (
        typing.Union,
        types.UnionType,
    )
    if optional:
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    text = _kind(annotation, metadata)
    return f"{text}, or `null`" if optional else text


_NAMES = {
    str: "text",
    int: "integer",
    float: "number",
    dt.date: "date",
    dt.datetime: "UTC date-time",
    dt.timedelta: "duration",
}


def _constraints(metadata: list) -> list[str]:
    """Bounds, lengths and patterns in words: ``(0, 1]``, ``≥ 2``, ``at least 1``."""
    lo = hi = None
    parts: list[str] = []
    for m in metadata:
        if isinstance(m, (at.Gt, at.Ge)):
            lo = ("(", m.gt) if isinstance(m, at.Gt) else ("[", m.ge)
        elif isinstance(m, (at.Lt, at.Le)):
            hi = (")", m.lt) if isinstance(m, at.Lt) else ("]", m.le)
        elif isinstance(m, at.MinLen):
            parts.append(f"at least {m.min_length}")
        elif isinstance(m, at.MaxLen):
            parts.append(f"at most {m.max_length} characters")
        elif getattr(m, "pattern", None):
            parts.append(f"matching `{m.pattern}`")
    if lo and hi:
        parts.insert(0, f"{lo[0]}{_number(lo[1])}, {_number(hi[1])}{hi[0]}")
    elif lo:
        parts.insert(0, ("> " if lo[0] == "(" else "≥ ") + _number(lo[1]))
    elif hi:
        parts.insert(0, ("< " if hi[0] == ")" else "≤ ") + _number(hi[1]))
    return parts


def _kind(annotation: Any, metadata: list) -> str:  # noqa: PLR0911 (one per kind of type)
    """What a value of ``annotation`` under ``metadata`` may be, in words."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return ", ".join(f"`{_scalar(a)}`" for a in args)
    if origin is typing.Annotated:
        return _kind(args[0], [*metadata, *args[1].metadata])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "{" + ", ".join(annotation.model_fields) + "}"
    parts = _constraints(metadata)
    if origin is tuple:
        return f"pairs of {_kind(args[0], [])}"
    if origin is list:
        return ", ".join([f"list of {_kind(args[0], [])}", *parts])
    if origin is dict:
        return ", ".join(["mapping", *parts])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_kind(a, []) for a in args)
    if annotation is bool:
        return "`true`, `false`"
    return ", ".join(parts) or _NAMES.get(annotation, str(annotation))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_table(ns: str) -> str:
    """The markdown table of namespace ``ns``: key, default, allowed, meaning."""
    model = Parameters.model_fields[ns].annotation
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for key, field in _leaves(model):
        value, conf = field.get_default(call_default_factory=True), _conf_value(field)
        default = f"`{_cell(_scalar(value))}`"
        if conf != value:  # what conf/base sets instead: its keys, or the text
            shown = conf if isinstance(conf, dict) else [_cell(_scalar(conf))]
            default += " (conf/base: " + ", ".join(f"`{k}`" for k in shown) + ")"
        allowed = _allowed(field.annotation, field.metadata)
        rows.append(
            f"| `{key}` | {default} | {_cell(allowed)} | "
            f"{_cell(field.description or '')} |"
        )
    return "\n".join(rows) + "\n"


def render_docs(text: str) -> str:
    """``text`` (docs/parameters.md) with every generated block rewritten."""
    missing = set(Parameters.model_fields) - set(m[2] for m in _BLOCK.finditer(text))
    if missing:
        raise ValueError(
            f"{DOCS}: no `<!-- generated: NS -->` block for {', '.join(sorted(missing))}"
        )
    return _BLOCK.sub(lambda m: m[1] + render_table(m[2]) + m[4], text)


# --- command line -----------------------------------------------------------


def expected(root: Path) -> dict[Path, str]:
    """Every generated file under ``root`` and the text it should hold."""
    files = {
        root / "conf" / "base" / f"parameters_{p}.yml": render_yaml(p) for p in FILES
    }
    files[root / DOCS] = render_docs((root / DOCS).read_text(encoding="utf-8"))
    return files


def drifted(root: Path) -> list[Path]:
    """The generated files under ``root`` that differ from the models."""
    return [
        path
        for path, text in expected(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the generated files; 1 on drift."""
    parser = argparse.ArgumentParser(prog="python -m ethpredict.params.generate")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 on drift"
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project folder")
    args = parser.parse_args(argv)
    if args.check:
        bad = drifted(args.root)
        for path in bad:
            print(f"drifted: {path} (run python -m ethpredict.params.generate)")
        return 1 if bad else 0
    for path, text in expected(args.root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
