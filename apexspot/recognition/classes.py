"""Emotion classes as the recognition protocols define them, from each sheet's own emotion.

MEGC 2019's composite set pools CASME II, SAMM (and SMIC) into three classes: positive
(happiness), negative (CASME II's disgust and repression; SAMM's anger, contempt, disgust,
fear and sadness) and surprise; everything else ("others") is left out. Each dataset's own
five-class protocol is a setting too: CASME II's happiness, disgust, repression, surprise
and others (its few fear and sadness clips are left out, as in the protocol's published
counts) and SAMM's anger, contempt, happiness, surprise and other (its disgust, fear and
sadness counted as other). CAS(ME)^2 codes the composite classes itself (negative,
positive, surprise, others).

An emotion a scheme does not map is never guessed: `classify` returns None with the reason,
and the caller reports the sheet and row.
"""

from __future__ import annotations

SCHEMES: dict[str, dict[str, dict[str, str]]] = {
    # scheme -> dataset -> the sheet's emotion (lower case) -> class
    "composite": {
        "casme2": {"happiness": "positive", "disgust": "negative", "repression": "negative", "surprise": "surprise"},
        "samm": {"happiness": "positive", "anger": "negative", "contempt": "negative", "disgust": "negative",
                 "fear": "negative", "sadness": "negative", "surprise": "surprise"},
        "casme_sq": {"positive": "positive", "negative": "negative", "surprise": "surprise"},
    },
    "casme2": {
        "casme2": {e: e for e in ("happiness", "disgust", "repression", "surprise", "others")},
    },
    "samm": {
        "samm": {"anger": "anger", "contempt": "contempt", "happiness": "happiness", "surprise": "surprise",
                 "other": "other", "disgust": "other", "fear": "other", "sadness": "other"},
    },
}
# SAMM Long Videos codes SAMM's emotions where it codes any. The built-in data ("synthetic")
# writes CASME II's and SAMM's emotion words in its clips and CAS(ME)^2's classes in its
# recordings: the union of those tables (no word maps to two classes); under the casme2
# scheme its clips are read as CASME II's.
SCHEMES["composite"]["samm_lv"] = SCHEMES["composite"]["samm"]
SCHEMES["composite"]["synthetic"] = {k: v for table in SCHEMES["composite"].values() for k, v in table.items()}
SCHEMES["casme2"]["synthetic"] = SCHEMES["casme2"]["casme2"]
# Each scheme's classes, in one order (confusion matrices, tables).
CLASSES = {scheme: tuple(sorted({c for table in tables.values() for c in table.values()}))
           for scheme, tables in SCHEMES.items()}


def classify(emotion: str, dataset: str, scheme: str = "composite") -> tuple[str | None, str]:
    """(class, '') or (None, why): the class `scheme` gives a sheet's emotion in `dataset`."""
    table = SCHEMES[scheme].get(dataset)
    if table is None:
        return None, f"the {scheme} scheme has no classes for {dataset} (it covers {', '.join(SCHEMES[scheme])})"
    text = emotion.strip().lower()
    if text in table:
        return table[text], ""
    return None, f"emotion {emotion!r} is not one of the {scheme} scheme's {dataset} emotions ({', '.join(table)})"
