"""The typed schema of FaceLens's JSON files: one check per field, derived from the dataclass.

A config dataclass (``Settings``, ``KioskConfig``, the PIN file's ``PinFile``) declares each
field's type, and, where it needs one, its allowed range, choices or pattern with
:func:`setting`. :func:`from_dict` then checks a
parsed file as a whole and reports every problem at once, one line each, as
``<file>: <field>: <what is wrong>; <what to do>``. A new field needs nothing more than its
declaration. (Hand-written rather than pydantic: the few types used here need a page of
checks, and importing pydantic would cost every command start-up time.)
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from .atomic_write import write_error
from .errors import FaceLensError

T = TypeVar("T")
WHOLE_FILE = "(whole file)"
RESET_HINT = ("fix it, or reset the file to the defaults (the app offers to, keeping a copy; "
              "or move the file away)")


class ConfigError(FaceLensError):
    """A config file, or a value set in one, is not valid. ``problems``: one line each."""

    def __init__(self, problems: str | list[str], path: Path | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.path = path
        prefix = f"{path}: " if path is not None else ""
        super().__init__("\n".join(prefix + p for p in self.problems))


def setting(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
            min: float | None = None, max: float | None = None,  # noqa: A002 - schema words
            choices: Iterable[str] | Callable[[], Iterable[str]] | None = None,
            pattern: str | None = None, pattern_says: str = "is not allowed here",
            rule: tuple[Callable[[Any], bool], str] | None = None, null: str = "") -> Any:
    """A dataclass field with its allowed values: a range, choices, a regex (`pattern`, and
    what a value that does not match it is: `pattern_says`), a `rule` (a test and what it
    asks for, e.g. "a power of two"); `null` says what ``null`` means when the type allows
    None (shown in messages)."""
    meta = {"min": min, "max": max, "choices": choices, "pattern": pattern,
            "pattern_says": pattern_says, "rule": rule, "null": null}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def _choices(meta: dict) -> list[str] | None:
    c = meta.get("choices")
    if c is None:
        return None
    return list(c() if callable(c) else c)


def _json_kind(value: Any) -> str:
    """How a JSON value reads to a user: a list, text "abc", the number 5..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {json.dumps(value)[:60]}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _range_text(meta: dict, whole: bool) -> str:
    lo, hi = meta.get("min"), meta.get("max")
    kind = "a whole number" if whole else "a number"
    if lo is not None and hi is not None:
        return f"{kind} from {lo} to {hi}"
    if lo is not None:
        return f"{kind} of at least {lo}"
    if hi is not None:
        return f"{kind} of at most {hi}"
    return kind


def _expected(tp: Any, meta: dict) -> str:
    """What to do, for a field of type `tp`: 'use a number from 0 to 1, or null for ...'."""
    args = typing.get_args(tp)
    nullable = type(None) in args
    base = next((a for a in args if a is not type(None)), tp) if args and nullable else tp
    if base is bool:
        text = "use true or false"
    elif base in (int, float):
        text = "use " + _range_text(meta, base is int)
        if meta.get("rule"):
            text += f", {meta['rule'][1]}"
    elif base is str:
        choices = _choices(meta)
        if choices is not None:
            text = "use one of " + ", ".join(json.dumps(c) for c in choices)
        elif meta.get("pattern"):
            text = f"use text matching {meta['pattern']}"
        else:
            text = "use a text in quotes"
    elif typing.get_origin(base) is dict:
        text = 'use an object of text to text, e.g. {"1234": "Ada"}'
    else:
        text = f"use a value of type {base}"
    if nullable:
        text += ", or null" + (f" for {meta['null']}" if meta.get("null") else "")
    return text


def check_value(tp: Any, value: Any, meta: dict) -> tuple[Any, str | None]:
    """(the value to keep, None) or (None, what is wrong) for one field's `value`."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None, None
        tp = next(a for a in args if a is not type(None))
    if tp is bool:
        return (value, None) if isinstance(value, bool) else (None, f"{_json_kind(value)} is "
                                                                    "not true or false")
    if tp in (int, float):
        ok_type = isinstance(value, int) if tp is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type:
            want = "a whole number" if tp is int else "a number"
            return None, f"{_json_kind(value)} is not {want}"
        if not math.isfinite(value):
            return None, f"{value} is not a finite number"
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return None, f"{value} is out of range"
        rule = meta.get("rule")
        if rule and not rule[0](value):
            return None, f"{value} is not {rule[1]}"
        return tp(value), None
    if tp is str:
        if not isinstance(value, str):
            return None, f"{_json_kind(value)} is not a text"
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            return None, f"{_json_kind(value)} {meta.get('pattern_says', 'is not allowed here')}"
        choices = _choices(meta)
        if choices is not None and value not in choices:
            return None, f"{_json_kind(value)} is not a known value"
        return value, None
    if typing.get_origin(tp) is dict:
        if not isinstance(value, dict):
            return None, f"{_json_kind(value)} is not an object"
        bad = [k for k, v in value.items() if not isinstance(v, str)]
        if bad:
            entry = json.dumps(bad[0])
            return None, f"the entry {entry} is {_json_kind(value[bad[0]])}, not a text"
        return dict(value), None
    raise TypeError(f"config_schema cannot check fields of type {tp}")


def _fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if f.init]


def problems_of(obj: Any) -> list[str]:
    """Every field of the dataclass instance `obj` whose value its declaration does not allow:
    ``"<field>: <what is wrong>; <what to do>"``."""
    out = []
    for f, tp in _fields(type(obj)):
        _, wrong = check_value(tp, getattr(obj, f.name), f.metadata)
        if wrong:
            out.append(f"{f.name}: {wrong}; {_expected(tp, f.metadata)}")
    return out


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def from_dict(cls: type[T], raw: Any, path: Path, error: type[ConfigError] = ConfigError,
              todo: str | None = None) -> T:
    """An instance of the dataclass `cls` from a parsed JSON file, every problem reported at
    once as `error`. Keys the dataclass does not have are ignored (newer FaceLens versions);
    a field without a default must be there. `todo` replaces each field's "what to do"."""
    if not isinstance(raw, dict):
        raise error([f"{WHOLE_FILE}: holds {_json_kind(raw)}, not an object of settings; "
                     f"{todo or RESET_HINT}"], path)
    values, problems = {}, []
    for f, tp in _fields(cls):
        if f.name not in raw:
            if _required(f):
                problems.append(f"{f.name}: is missing; {todo or _expected(tp, f.metadata)}")
            continue
        value, wrong = check_value(tp, raw[f.name], f.metadata)
        if wrong:
            problems.append(f"{f.name}: {wrong}; {todo or _expected(tp, f.metadata)}")
        else:
            values[f.name] = value
    if problems:
        raise error(problems, path)
    try:
        return cls(**values)
    except ConfigError as exc:  # a rule between fields (the class's own validate)
        raise error(exc.problems, path) from None


def read_json(path: Path, error: type[ConfigError] = ConfigError) -> Any:
    """The parsed content of `path`; `error` (one line) for unreadable or invalid JSON;
    FileNotFoundError when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError:
        raise error([f"{WHOLE_FILE}: is not UTF-8 text; {RESET_HINT}"], path) from None
    except OSError as exc:
        raise error([f"{WHOLE_FILE}: cannot be read ({exc.strerror or exc}); check the file "
                     "and its permissions"], path) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        msg = getattr(exc, "msg", str(exc))
        raise error([f"{WHOLE_FILE}: is not valid JSON ({msg}{where}); {RESET_HINT}"],
                    path) from None


def load(cls: type[T], path: Path, error: type[ConfigError] = ConfigError) -> T:
    """The dataclass `cls` from the JSON file `path`; its defaults when there is no file."""
    try:
        raw = read_json(path, error)
    except FileNotFoundError:
        return cls()
    return from_dict(cls, raw, path, error)


def reset_to_defaults(path: Path) -> Path | None:
    """Move a damaged config file aside (``<name>.damaged-<n>``) so the defaults apply; the
    copy's path, or None when there was no file."""
    path = Path(path)
    if not path.exists():
        return None
    n = 1
    while (copy := path.with_name(f"{path.name}.damaged-{n}")).exists():
        n += 1
    try:
        path.rename(copy)
    except OSError as exc:
        raise write_error(path, exc) from exc
    return copy
