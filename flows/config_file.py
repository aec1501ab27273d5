"""A configuration file as read: the ``extends:`` chain, merged key by key, read safely.

A configuration is trusted no further than it must be: a file over 1 MB, a YAML alias
(``*name``: a few nested ones expand to billions of nodes, the "billion laughs") and
nesting deeper than a configuration needs are refused before anything is built, and a
secret (a key, a password in a URI) written into a file is refused naming the environment
variable that should carry it. Relative paths resolve against the directory of the file
that sets them; ``origin`` remembers which file set each key, so that an error names it.
Typing the merged data is :mod:`flows.settings`' job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from features.errors import SourceError

Origin = dict[tuple[str, ...], str]


@dataclass
class ConfigError(SourceError):
    """A configuration file Ennakko cannot use (its offending part is a key, not a column)."""

    label: str = "Key"


MAX_CONFIG_BYTES = 1024 * 1024
MAX_CONFIG_DEPTH = 50
PATH_KEYS = (("workspace",), ("data_dir",), ("truth_path",))
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "ENNAKKO_WORKSPACE": ("workspace",),
    "ENNAKKO_DATA_DIR": ("data_dir",),
    "ENNAKKO_MLFLOW_URI": ("mlflow", "tracking_uri"),
    "ENNAKKO_PSEUDONYM_KEY": ("privacy", "pseudonym_key"),
    "ENNAKKO_AUDIT_KEY": ("privacy", "audit_key"),
}
SECRET_KEYS = (("privacy", "pseudonym_key"), ("privacy", "audit_key"))
# Service addresses that may carry credentials (scheme://user:password@host).
URI_KEYS = (("mlflow", "tracking_uri"),)
PASSWORD_IN_URI = re.compile(r"://[^/@:\s]*:[^/@\s]+@|[?&](?:password|pwd)=", re.IGNORECASE)


class _Refused(yaml.YAMLError):
    """A YAML construct a configuration may not use: an alias, or nesting too deep."""

    def __init__(self, what: str, mark: Any) -> None:
        super().__init__(what)
        self.what, self.mark = what, mark


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases and without deep nesting.

    An alias (``*name``) repeats a node; nine nested ones of ten make a billion nodes,
    which took 70 s and 3 GB before PyYAML gave up. Ennakko's settings need neither.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(f"*{event.anchor}", event.start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_CONFIG_DEPTH:
                raise _Refused("", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _load_yaml(path: Path) -> Any:
    """The YAML document of ``path``, or one ConfigError naming the file and the line."""
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            str(path),
            f"is {size:,} bytes, above the {MAX_CONFIG_BYTES:,} bytes (1 MB) a configuration "
            "may have, so it was not read.",
            hint="Is this the right file? configs/default.yaml, every setting documented, is "
            "about 12 kB.",
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), f"is not UTF-8 text (byte {exc.start:,} cannot be decoded)."
        ) from None
    try:
        return yaml.load(text, Loader=_ConfigLoader)  # a SafeLoader, stricter still
    except _Refused as exc:
        where = f"line {exc.mark.line + 1}, column {exc.mark.column + 1}"
        if not exc.what:
            raise ConfigError(
                str(path),
                f"nests deeper than {MAX_CONFIG_DEPTH} levels at {where}, which no setting "
                "needs; the file was not read.",
            ) from None
        raise ConfigError(
            str(path),
            f"uses the YAML alias {exc.what} at {where}: aliases are not allowed in a "
            "configuration (a few nested ones can expand to billions of values).",
            hint="Write the values out, or use `extends:` to share settings between files.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(str(path), f"is not valid YAML{where}: {exc}.") from None


def read_chain(
    path: Path, seen: tuple[Path, ...]
) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    if path in seen:
        raise ConfigError(str(path), "the `extends:` chain loops back to this file.")
    if not path.is_file():
        hint = (
            f"It is named by `extends:` in {seen[-1]}; check that line."
            if seen
            else "Check the --config path (or ENNAKKO_CONFIG)."
        )
        raise ConfigError(str(path), "the configuration file does not exist.", hint=hint)
    raw = _load_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "must be a mapping of keys to values at the top level.")
    for keys in SECRET_KEYS:
        if get_key(raw, keys) is not None:
            raise ConfigError(
                str(path),
                f"`{'.'.join(keys)}` is a secret and may not be written in a file.",
                column=".".join(keys),
                hint=f"Set the environment variable {_env_name(keys)} instead.",
            )
    for keys in URI_KEYS:
        value = get_key(raw, keys)
        if isinstance(value, str) and PASSWORD_IN_URI.search(value):
            raise ConfigError(
                str(path),
                f"`{'.'.join(keys)}` holds a password, which may not be written in a file.",
                column=".".join(keys),
                hint=f"Set the environment variable {_env_name(keys)} instead.",
            )
    base_name = raw.pop("extends", None)
    data: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    if base_name:
        data, origin = read_chain((path.parent / base_name).resolve(), seen=(*seen, path))
    for keys in PATH_KEYS:
        value = get_key(raw, keys)
        if isinstance(value, str):
            set_key(raw, keys, str((path.parent / value).resolve()))
    _merge(data, raw, origin, str(path), ())
    return data, origin


def _merge(
    into: dict[str, Any],
    new: Mapping[str, Any],
    origin: dict[tuple[str, ...], str],
    source: str,
    prefix: tuple[str, ...],
) -> None:
    for key, value in new.items():
        keys = (*prefix, str(key))
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value, origin, source, keys)
        else:
            into[key] = value
            origin[keys] = source
            if isinstance(value, Mapping):
                for sub in _leaf_keys(value, keys):
                    origin[sub] = source


def _leaf_keys(value: Mapping[str, Any], prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    out = []
    for key, sub in value.items():
        keys = (*prefix, str(key))
        out.append(keys)
        if isinstance(sub, Mapping):
            out.extend(_leaf_keys(sub, keys))
    return out


def get_key(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def set_key(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    data[keys[-1]] = value


def _env_name(keys: tuple[str, ...]) -> str:
    return next(name for name, k in ENV_OVERRIDES.items() if k == keys)
