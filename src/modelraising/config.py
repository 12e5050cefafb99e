"""Typed run configuration, loaded from YAML at the edge and passed explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from modelraising.charter import problems_from

M = TypeVar("M", bound=BaseModel)


def require_known(values, allowed, what: str) -> None:
    """Raise the validation message for names not in ``allowed`` (``what``: "pillar", "arm", ...)."""
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(unknown)}; valid: {', '.join(allowed)}")


class ConfigError(Exception):
    """An invalid run configuration; ``problems`` has one line per field."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid configuration\n" + "\n".join(f"  {p}" for p in problems))


def load_yaml_config(path: str | Path | None, model: type[M], overrides: dict | None = None) -> M:
    """Validate a YAML file (plus CLI overrides) into ``model``; all problems reported at once."""
    data: dict = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(str(path), [f"cannot read: {exc}"]) from None
        if not isinstance(data, dict):
            raise ConfigError(str(path), ["(top level): must be a mapping of option: value"])
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path or "options"), problems_from(exc)) from None


_KEEP: Any = object()


def field_of(source: type[BaseModel], name: str, default: Any = _KEEP) -> Any:
    """Field ``name`` of another config, for a section that reuses it: bounds and help come from
    ``source`` (defined once there); ``default`` replaces the source's default where the section wants
    another (None: "unset, the source's default applies later")."""
    from pydantic.fields import FieldInfo

    info = source.model_fields[name]
    if default is _KEEP:
        return FieldInfo.merge_field_infos(info)
    return FieldInfo.merge_field_infos(info, default=default, default_factory=None)
