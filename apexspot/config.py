"""The typed schema of params.yaml: every setting, its one default, and what it may be.

Stages and the CLI load params.yaml through `load()`, once, before any work. A typo in a
key, a value of the wrong type or out of range is a `ParamsError` whose message names the
key, the value and what is allowed, on one line. Numbers may be written as YAML 1.1 reads
them or not (`1e-4` is a string to PyYAML; it is accepted here as the number it means).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from apexspot.errors import ParamsError

PARAMS_FILE = "params.yaml"


class Section(BaseModel):
    """A params.yaml mapping: unknown keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @classmethod
    def from_params(cls, values: dict[str, Any] | None, where: str = "") -> "Section":
        """Validate one section given as a plain mapping (e.g. models/params.yaml's copy)."""
        try:
            return cls.model_validate(values or {})
        except ValidationError as err:
            raise ParamsError(describe(err, cls, where or cls.__name__)) from None


# ------------------------------------------------------------------ data


class CasmeSource(Section):
    frames: str = "data/raw/CASME2/CASME2_RAW_selected"  # or data/raw/CASME2/Cropped
    sheet: str = "data/raw/CASME2/CASME2-coding-20190701.xlsx"  # or the 20140508 release
    layout: Literal["auto", "raw", "cropped"] = "auto"


class SammSource(Section):
    frames: str = "data/raw/SAMM/SAMM"
    sheet: str = "data/raw/SAMM/SAMM_Micro_FACS_Codes_v2.xlsx"
    sheet_name: str = "MICRO_ONLY"


class SyntheticSource(Section):
    root: str = "data/synthetic"
    subjects: int = Field(30, ge=1, le=1000)
    clips_per_subject: int = Field(5, ge=1, le=100)
    seed: int = 0
    jpeg_quality: int = Field(90, ge=1, le=100)


class DataParams(Section):
    sources: list[Literal["synthetic", "casme2", "samm"]] = Field(["synthetic"], min_length=1)
    on_defect: Literal["skip", "fail"] = "skip"
    casme2: CasmeSource = CasmeSource()
    samm: SammSource = SammSource()
    synthetic: SyntheticSource = SyntheticSource()

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, values: Any) -> Any:
        if isinstance(values, dict) and isinstance(values.get("sources"), str):
            values = {**values, "sources": [values["sources"]]}
        return values


# ------------------------------------------------------------------ preprocessing


class AlignParams(Section):
    size: int = Field(128, ge=16, le=1024)  # aligned frames are size x size, grey-scale
    margin: float = Field(0.32, gt=0, lt=0.5)  # eye centres sit margin*size in from the edges
    eye_line: float = Field(0.35, gt=0, lt=1)  # and eye_line*size below the top
    min_confidence: float = Field(0.9, ge=0, le=1)  # MTCNN faces below this are ignored
    views: Literal[1, 2, 4] = 4  # MTCNN views whose landmarks are averaged


class FlowParams(Section):
    method: Literal["farneback", "dis", "tvl1"] = "farneback"
    channels: list[Literal["u", "v", "magnitude", "strain"]] = Field(["u", "v", "magnitude"], min_length=1)
    size: int = Field(75, ge=8, le=512)  # network input is size x size
    scale: float = Field(4.0, gt=0)  # stored value = displacement in output-grid pixels x scale
    remove_global: bool = True  # subtract head motion (a robust similarity fit)
    stabilise: bool = True  # warp each frame back onto the onset by that fit, then compute the flow again
    previews: int = Field(3, ge=0)  # PNG sheets in data/flow_preview/


class FoldParams(Section):
    scheme: Literal["kfold", "loso"] = "kfold"
    k: int = Field(3, ge=2)
    seed: int = 0


# ------------------------------------------------------------------ model and training


class Variant(Section):
    """One network: the paper's per-frame CNN (`kind: frame`) or our clip model (`kind: clip`)."""

    kind: Literal["frame", "clip"] = "frame"
    # kind: frame (the paper, Tables 3-8)
    convs: Literal[3, 4, 5] = 5
    norm: Literal["lrn", "bn", "none"] = "lrn"
    attention: bool = True
    dropout: float = Field(0.0, ge=0, lt=1)  # after each hidden FC layer (not in the paper)
    # kind: clip (ours): a small per-frame encoder, temporal convolutions over the whole
    # clip, a softmax over frames combined with a prior fitted on the training folds
    width: int = Field(32, ge=4, le=512)  # features per frame
    pool: int = Field(3, ge=1, le=8)  # flow averaged over pool x pool blocks (75 -> 25) before the encoder
    frame_step: int = Field(2, ge=1, le=8)  # every n-th frame (200 fps neighbours are near-copies)
    normalise: bool = True  # divide each clip's flow by its own 99th percentile (relative motion)
    dropout_rate: float = Field(0.0, ge=0, lt=1)  # on the per-frame features
    short_range: bool = False  # also feed each frame's change since the previous kept frame
    temporal_layers: int = Field(3, ge=0, le=8)  # dilated 1-D convolutions (dilation 1, 2, 4, ...)
    members: int = Field(1, ge=1, le=16)  # independently initialised networks, posteriors averaged
    prior: bool = True  # add the log prior over apex positions (training folds only)
    target_sigma: float = Field(0.05, gt=0, le=0.5)  # width of the apex target, fraction of the window
    intensity_weight: float = Field(1.0, ge=0)  # weight of the paper's per-frame targets as a second loss (0: off)
    # scoring: the clip also played at these speeds (1 = as recorded), posteriors averaged
    test_stretch: list[Annotated[float, Field(ge=0.5, le=2.0)]] = Field([0.9, 1.0, 1.1], min_length=1)
    # Training recipe of this variant where it differs from train.* (null: use train.*)
    epochs: Optional[int] = Field(None, ge=1)
    batch_size: Optional[int] = Field(None, ge=1)
    learning_rate: Optional[float] = Field(None, gt=0, lt=1)


class TrainParams(Section):
    epochs: int = Field(8, ge=1)
    batch_size: int = Field(128, ge=1)  # frames (kind: frame) or clips (kind: clip) per step
    learning_rate: float = Field(3e-4, gt=0, lt=1)
    frame_stride: int = Field(4, ge=1)  # kind: frame trains on every n-th frame
    labels: Literal["linear", "exponential"] = "linear"
    seed: int = 0
    mixed_precision: bool = False  # float16 compute (GPU); weights and the output stay float32
    jit_compile: Union[bool, Literal["auto"]] = "auto"  # XLA / JIT
    augment: bool = True  # kind: clip: mirror (u negated) and time-stretch training clips
    # kind: frame: a fold's frames held in memory (one gather per batch) or streamed from disk;
    # auto: in memory when they take under a quarter of this machine's memory. Same batches either way.
    loader: Literal["auto", "memory", "stream"] = "auto"


class SpotParams(Section):
    method: Literal["argmax", "window", "median"] = "argmax"
    window: int = Field(9, ge=1)  # frames, for method: window


PAPER_VARIANTS = {
    "bn3": {"convs": 3, "norm": "bn", "attention": False},
    "bn4": {"convs": 4, "norm": "bn", "attention": False},
    "bn5": {"convs": 5, "norm": "bn", "attention": False},
    "lrn5": {"convs": 5, "norm": "lrn", "attention": False},
    "lrn5_att": {"convs": 5, "norm": "lrn", "attention": True},
}


CLIP_VARIANT = {"kind": "clip", "width": 16, "dropout_rate": 0.3, "epochs": 20, "batch_size": 8,
                "learning_rate": 1e-3}


class Params(Section):
    """The whole of params.yaml."""

    workers: int = Field(0, ge=0)  # worker processes for per-clip stages; 0 = one per core
    data: DataParams = DataParams()
    face: AlignParams = AlignParams()
    flow: FlowParams = FlowParams()
    folds: FoldParams = FoldParams()
    variant: str = "clip"
    variants: dict[str, Variant] = Field(
        default_factory=lambda: {**{k: Variant(**v) for k, v in PAPER_VARIANTS.items()},
                                 "clip": Variant(**CLIP_VARIANT)})
    train: TrainParams = TrainParams()
    spot: SpotParams = SpotParams()

    @model_validator(mode="after")
    def _known_variant(self) -> "Params":
        if self.variant not in self.variants:
            close = difflib.get_close_matches(self.variant, list(self.variants), 1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"variant {self.variant!r} is not one of variants: {', '.join(self.variants)}{hint}")
        return self

    def selected_variant(self) -> Variant:
        return self.variants[self.variant]


# ------------------------------------------------------------------ loading


def read_yaml(path: str | Path) -> Any:
    """A YAML file through safe_load, with one-line errors naming the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found (run from the project root)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ParamsError(f"{path}: cannot be read: {err}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ParamsError(f"{path}: not valid YAML{where}: {problem}") from None


def load(path: str | Path = PARAMS_FILE) -> Params:
    """params.yaml, validated as a whole; raises ParamsError naming every bad key."""
    values = read_yaml(path)
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ParamsError(f"{path}: expected a mapping of settings at the top level")
    try:
        return Params.model_validate(values)
    except ValidationError as err:
        raise ParamsError(describe(err, Params, str(path))) from None


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The schema class at a location such as ('train',) or ('variants', 'bn3')."""
    for part in loc:
        if model is Params and part == "variants":
            model = Variant
            continue
        if model is Variant and isinstance(part, str) and part not in Variant.model_fields:
            continue  # the variant's name
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def describe(err: ValidationError, schema: type[BaseModel], where: str) -> str:
    """Every validation error as `key: what is wrong`, on one line."""
    parts = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            parent = _model_at(schema, loc[:-1])
            names = list(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(loc[-1]), names, 1)
            hint = f"; did you mean {'.'.join(str(p) for p in loc[:-1] + (close[0],))!r}?" if close else ""
            parts.append(f"{key}: unknown key{hint}")
        elif e["type"] == "value_error":
            parts.append(f"{key + ': ' if loc else ''}{e['msg'].removeprefix('Value error, ')}")
        else:
            parts.append(f"{key}: {e.get('input')!r} is not allowed: {e['msg']}")
    return f"{where}: " + "; ".join(parts)
