"""Reading params.yaml, the single place the pipeline's knobs live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from apexspot.errors import ParamsError


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open() as f:
            params = yaml.safe_load(f)
    except FileNotFoundError:
        raise ParamsError(f"{path}: params file not found (run from the project root)") from None
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level")
    return params


def section(params: dict[str, Any], dotted: str) -> dict[str, Any]:
    """Return params['a']['b'] for 'a.b', with an error that names the missing key."""
    node: Any = params
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            raise ParamsError(f"params.yaml: missing section '{dotted}'")
        node = node[key]
    if not isinstance(node, dict):
        raise ParamsError(f"params.yaml: '{dotted}' must be a mapping")
    return node
