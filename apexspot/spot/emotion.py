"""The emotion `spot` names beside each apex or interval: the recognise stage's fold
classifiers (recognisers/ beside models/, recordings/recognisers/ beside recordings/models/),
their probabilities averaged, as the spotters' scores are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def beside(models: str | Path) -> Path:
    """Where the pipeline puts the classifiers of a models folder's run."""
    return Path(models).parent / "recognisers"


def recognise(folder: Path, x: np.ndarray) -> tuple[list[tuple[str | None, float | None]], dict[str, Any]]:
    """Each sample's (class, probability), and what a reader should know: which classifiers,
    which classes; (None, None) each and the reason when there are none."""
    from apexspot.recognition.recogniser import classify, load_all

    recognisers = load_all(folder)
    if not recognisers:
        return [(None, None)] * len(x), {"recognisers": [], "emotion_note": f"no emotion classifiers in {folder} "
                                         f"(`dvc repro` trains them beside the spotters)"}
    found = classify(recognisers, np.asarray(x, np.float32), folder) if len(x) else []
    return [(c, round(q, 4)) for c, q in found], {"recognisers": [f.name for f in sorted(folder.glob("fold_*.keras"))],
                                                 "classes": list(recognisers[0].classes),
                                                 "scheme": recognisers[0].scheme}


def emotion_line(result: dict[str, Any], count: int) -> str:
    if not result.get("recognisers"):
        return f"emotion: not recognised: {result.get('emotion_note', 'no classifiers')}"
    return (f"emotion by {len(result['recognisers'])} fold classifiers, {result['scheme']} classes "
            f"({', '.join(result['classes'])}){'' if count == 1 else ', per interval above'}")
