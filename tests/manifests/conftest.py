"""Fixtures for the config and manifest tests: example configs copied to a temp dir, edited per test."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "manifests" / "examples"


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config('advanced'|'basic', edit=fn, **top_level_overrides) -> path of a real YAML file."""

    def _write(kind: str = "advanced", edit: Callable[[dict[str, Any]], None] | None = None, **overrides: Any) -> Path:
        data = yaml.safe_load((EXAMPLES / f"config-{kind}.yml").read_text())
        data.update(overrides)
        if edit:
            edit(data)
        path = tmp_path / f"inception-{kind}.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return _write
