"""The typed schema of params.yaml: every setting's type, range and meaning, and no defaults.

params.yaml is the one place a value lives. DVC tracks params.yaml, not this module: a
default written here would be invisible to it (changing it would rerun nothing, and `dvc
params diff` could not show it). So every field here is required: a missing key or section
is an error naming it, as an unknown key is. Stages and the CLI load params.yaml through
`load()`, once, before any work; every problem is one `ParamsError` line naming the key,
the value and what is allowed. Numbers may be written as YAML 1.1 reads them or not (`1e-4`
is a string to PyYAML; it is accepted here as the number it means).

One module, longer than the others, because it is the one place the whole of params.yaml
is described: split by section, a setting's neighbours (and the cross-section checks) would
be in another file.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from apexspot.core.errors import ParamsError

PARAMS_FILE = "params.yaml"


class Section(BaseModel):
    """A params.yaml mapping: unknown and missing keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @classmethod
    def from_params(cls, values: dict[str, Any] | None, where: str = "") -> "Section":
        """Validate one section given as a plain mapping (e.g. models/params.yaml's copy)."""
        try:
            return cls.model_validate(values or {})
        except ValidationError as err:
            raise ParamsError(describe(err, cls, where or cls.__name__)) from None

    def replace(self, **changes: Any) -> "Section":
        """A validated copy with some settings changed (a test's or a tool's variation)."""
        return type(self).from_params({**self.model_dump(), **changes})


# ------------------------------------------------------------------ data


class CasmeSource(Section):
    frames: str  # root holding subNN/
    sheet: str  # the coding sheet (2014 or 2019 release)
    layout: Literal["auto", "raw", "cropped"]  # raw: imgN.jpg, cropped: reg_imgN.jpg


class SammSource(Section):
    frames: str  # root holding 006/
    sheet: str
    sheet_name: str


class SyntheticSource(Section):
    """The built-in dataset, written by ingest to data/synthetic (its DVC output, not a setting)."""

    subjects: int = Field(ge=1, le=1000)
    clips_per_subject: int = Field(ge=1, le=100)
    seed: int
    jpeg_quality: int = Field(ge=1, le=100)


class DataParams(Section):
    sources: list[Literal["synthetic", "casme2", "samm"]] = Field(min_length=1)
    on_defect: Literal["skip", "fail"]
    casme2: CasmeSource
    samm: SammSource
    synthetic: SyntheticSource

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, values: Any) -> Any:
        if isinstance(values, dict) and isinstance(values.get("sources"), str):
            values = {**values, "sources": [values["sources"]]}
        return values


# ------------------------------------------------------------------ preprocessing


class AlignParams(Section):
    size: int = Field(ge=16, le=1024)  # aligned frames are size x size, grey-scale
    margin: float = Field(gt=0, lt=0.5)  # eye centres sit margin*size in from the edges
    eye_line: float = Field(gt=0, lt=1)  # and eye_line*size below the top
    min_confidence: float = Field(ge=0, le=1)  # MTCNN faces below this are ignored
    views: Literal[1, 2, 4]  # MTCNN views whose landmarks are averaged


class FlowParams(Section):
    method: Literal["farneback", "dis", "tvl1"]
    channels: list[Literal["u", "v", "magnitude", "strain"]] = Field(min_length=1)
    size: int = Field(ge=8, le=512)  # network input is size x size
    scale: float = Field(gt=0)  # stored value = displacement in output-grid pixels x scale
    remove_global: bool  # subtract head motion (a robust similarity fit)
    stabilise: bool  # warp each frame back onto the onset by that fit, then compute the flow again
    previews: int = Field(ge=0)  # PNG sheets in data/flow_preview/


class TrackParams(Section):
    """Following the face through a long recording (apexspot.recordings.track)."""

    check_every_s: float = Field(gt=0)  # MTCNN looks again this often while the face is tracked
    retry_s: float = Field(gt=0)  # and this often while it is lost
    max_covered: float = Field(gt=0, le=1)  # a facial region with this share of its points covered: occluded
    reanchor_below: float = Field(gt=0, lt=1)  # fewer rigid points fitting the head motion: the current frame becomes the anchor
    restart_at: float = Field(gt=0)  # MTCNN's landmarks this far from the track (eye distances): restart
    max_turn: float = Field(gt=0)  # nose off the face's midline by more (eye distances): turned, unusable
    pad_s: float = Field(ge=0)  # frames this close to an unusable one are unusable too


class RecordingFlowParams(Section):
    """Flow in a long recording: from the frame `references_s` earlier, pooled to a grid."""

    method: Literal["farneback", "dis"]
    references_s: list[Annotated[float, Field(gt=0, le=5)]] = Field(min_length=1)
    grid: int = Field(ge=2, le=32)  # cells per side of the aligned face
    size: int = Field(ge=32, le=512)  # the face is resampled to size x size pixels for the flow
    rate: float = Field(gt=0, le=1000)  # flow at this many frames a second (every frame of a slower recording)


class FoldParams(Section):
    scheme: Literal["kfold", "loso"]
    k: int = Field(ge=2)
    seed: int


# ------------------------------------------------------------------ the spotters


class FrameVariant(Section):
    """The paper's per-frame CNN (Tables 3-8): one score per frame, the apex its best frame."""

    kind: Literal["frame"]
    convs: Literal[3, 4, 5]
    norm: Literal["lrn", "bn", "none"]
    attention: bool


class ClipVariant(Section):
    """Ours: a small per-frame encoder, temporal convolutions over the whole clip, a softmax
    over frames combined with a prior fitted on the training folds."""

    kind: Literal["clip"]
    width: int = Field(ge=4, le=512)  # features per frame
    pool: int = Field(ge=1, le=8)  # flow averaged over pool x pool blocks (75 -> 25) before the encoder
    frame_step: int = Field(ge=1, le=8)  # every n-th frame (200 fps neighbours are near-copies)
    normalise: bool  # divide each clip's flow by its own 99th percentile (relative motion)
    dropout_rate: float = Field(ge=0, lt=1)  # on the per-frame features
    temporal_layers: int = Field(ge=0, le=8)  # dilated 1-D convolutions (dilation 1, 2, 4, ...)
    prior: bool  # add the log prior over apex positions (training folds only)
    target_sigma: float = Field(gt=0, le=0.5)  # width of the apex target, fraction of the window
    intensity_weight: float = Field(ge=0)  # weight of the paper's per-frame targets as a second loss (0: off)
    # scoring: the clip also played at these speeds (1 = as recorded), posteriors averaged
    test_stretch: list[Annotated[float, Field(ge=0.5, le=2.0)]] = Field(min_length=1)


Variant = Annotated[Union[FrameVariant, ClipVariant], Field(discriminator="kind")]
VARIANT_KINDS: dict[str, type[Section]] = {"frame": FrameVariant, "clip": ClipVariant}


class FrameTraining(Section):
    """How a `kind: frame` variant is trained (the paper: 200 epochs, lr 1e-4, batch 128, stride 1)."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)  # frames per step
    learning_rate: float = Field(gt=0, lt=1)
    frame_stride: int = Field(ge=1)  # trains on every n-th frame
    labels: Literal["linear", "exponential"]  # continuous targets
    # a fold's frames held in memory (one gather per batch) or streamed from disk; auto: in
    # memory when they take under a quarter of this machine's memory. Same batches either way.
    loader: Literal["auto", "memory", "stream"]


class ClipTraining(Section):
    """How a `kind: clip` variant is trained."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)  # clips per step
    learning_rate: float = Field(gt=0, lt=1)
    augment: bool  # mirrored (u negated), time-stretched and shifted training clips


class TrainParams(Section):
    seed: int
    mixed_precision: bool  # float16 compute (GPU); weights and the output stay float32
    jit_compile: Union[bool, Literal["auto"]]  # XLA / JIT
    frame: FrameTraining
    clip: ClipTraining

    def recipe(self, kind: str) -> FrameTraining | ClipTraining:
        """The training settings of one spotter kind."""
        return self.frame if kind == "frame" else self.clip

    def applied(self, kind: str) -> dict[str, Any]:
        """What a run of this kind trains with, flat: the shared settings and its own recipe."""
        shared = self.model_dump(exclude={"frame", "clip"})
        return shared | {kind: self.recipe(kind).model_dump()}


class SpotParams(Section):
    method: Literal["argmax", "window", "median"]
    window: int = Field(ge=1)  # frames, for method: window


class RecognitionParams(Section):
    """Recognition of the clips' emotions (apexspot.recognition): the classes, and how the
    classifier and the published baseline are trained on each fold's training subjects."""

    scheme: Literal["composite", "casme2", "samm"]
    seed: int
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0, lt=1)
    jitter: int = Field(ge=0, le=20)  # frames: trained on the flow this far around the coded apex too


# ------------------------------------------------------------------ long recordings


class CasmeSqSource(Section):
    frames: str  # rawpic/, holding s15/15_0101disgustingteeth/img001.jpg
    sheet: str  # CAS(ME)^2code_final.xlsx


class SammLvSource(Section):
    frames: str  # SAMM_longvideos/, holding 006_1/006_1_0001.jpg
    sheet: str  # SAMM_LongVideos_V*_Release.xlsx
    sheet_name: str


class SyntheticRecordings(Section):
    """The built-in long recordings, written by the long-recording ingest stage."""

    subjects: int = Field(ge=1, le=300)  # one recording each
    seconds: float = Field(ge=3, le=600)
    seed: int
    jpeg_quality: int = Field(ge=1, le=100)


class IntervalSpotterParams(Section):
    """The interval spotter (apexspot.recordings.spotter): per-frame flow features, dilated temporal
    convolutions, the probability that each moment is inside a micro- and a macro-expression."""

    width: int = Field(ge=4, le=512)  # features per step
    temporal_layers: int = Field(ge=1, le=10)  # dilations 1, 2, 4, ...: context of 2^layers steps
    dropout_rate: float = Field(ge=0, lt=1)
    smooth_s: float = Field(ge=0)  # probabilities averaged over this long before the threshold


class IntervalTraining(Section):
    seed: int
    epochs: int = Field(ge=1)
    crops_per_epoch: int = Field(ge=1)  # random windows of the training recordings per epoch
    crop_s: float = Field(gt=0)  # seconds per window
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0, lt=1)
    augment: bool  # mirrored (u negated) and time-stretched (0.9-1.1x) windows


class IntervalRecognition(Section):
    """The class of every spotted interval: a small classifier of the pooled flow at its apex,
    trained on the coded intervals of each fold's training recordings (composite classes)."""

    seed: int
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0, lt=1)


class RecordingsParams(Section):
    """The long-recording pipeline (recordings/dvc.yaml)."""

    sources: list[Literal["synthetic", "casme_sq", "samm_lv"]] = Field(min_length=1)
    on_defect: Literal["skip", "fail"]
    casme_sq: CasmeSqSource
    samm_lv: SammLvSource
    synthetic: SyntheticRecordings
    track: TrackParams
    flow: RecordingFlowParams
    folds: FoldParams
    spotter: IntervalSpotterParams
    train: IntervalTraining
    bootstrap: int = Field(ge=100)  # subject resamples for every interval
    recognition: IntervalRecognition


class Params(Section):
    """The whole of params.yaml."""

    workers: int = Field(ge=0)  # worker processes for per-clip stages; 0 = one per core
    data: DataParams
    face: AlignParams
    flow: FlowParams
    folds: FoldParams
    variant: str
    variants: dict[str, Variant] = Field(min_length=1)
    train: TrainParams
    spot: SpotParams
    recognition: RecognitionParams
    recordings: RecordingsParams

    @model_validator(mode="after")
    def _known_variant(self) -> "Params":
        if self.variant not in self.variants:
            close = difflib.get_close_matches(self.variant, list(self.variants), 1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"variant {self.variant!r} is not one of variants: {', '.join(self.variants)}{hint}")
        return self

    def selected_variant(self) -> FrameVariant | ClipVariant:
        return self.variants[self.variant]


def variant_from(values: Any, where: str) -> FrameVariant | ClipVariant:
    """One variant given as a plain mapping (a fold record's copy), checked like params.yaml's."""
    kind = values.get("kind") if isinstance(values, dict) else None
    if kind not in VARIANT_KINDS:
        raise ParamsError(f"{where}: kind {kind!r} is not one of {', '.join(VARIANT_KINDS)}")
    return VARIANT_KINDS[kind].from_params(values, where)


# ------------------------------------------------------------------ loading


class _StrictLoader(yaml.SafeLoader):
    """safe_load that refuses a key written twice in one mapping (PyYAML keeps the last; DVC
    refuses the file, so the stage and DVC would disagree about the value)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {key_node.start_mark.line + 1})", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def check_no_aliases(text: str, path: Path) -> None:
    """Refuse YAML anchors and aliases: a few lines of nested aliases ("billion laughs") expand
    to gigabytes in DVC's own reading of params.yaml, which never answers. Read as events,
    nothing is expanded, so this check is instant whatever the file holds."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ParamsError(f"{path}: line {event.start_mark.line + 1}: YAML anchors and aliases (&, *) are "
                                  f"not allowed in params.yaml: write each value out")
    except yaml.YAMLError:
        return  # reported with its line by the reading itself


def read_yaml(path: str | Path, strict: bool = False) -> Any:
    """A YAML file through a safe loader, with one-line errors naming the file; `strict` (for
    params.yaml) also refuses duplicate keys, anchors and aliases."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found (run from the project root)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ParamsError(f"{path}: cannot be read: {err}") from None
    if strict:
        check_no_aliases(text, path)
    try:
        return yaml.load(text, Loader=_StrictLoader if strict else yaml.SafeLoader)  # noqa: S506 (safe loaders)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ParamsError(f"{path}: not valid YAML{where}: {problem}") from None


def load(path: str | Path = PARAMS_FILE) -> Params:
    """params.yaml, validated as a whole; raises ParamsError naming every bad or missing key."""
    values = read_yaml(path, strict=True)
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ParamsError(f"{path}: expected a mapping of settings at the top level")
    try:
        return Params.model_validate(values)
    except ValidationError as err:
        raise ParamsError(describe(err, Params, str(path))) from None


def schema_keys(model: type[BaseModel] = None, prefix: str = "") -> set[str]:
    """Every dotted key the schema knows (variants by kind: `variants.<kind>.width`)."""
    model = model or Params
    keys = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        if model is Params and name == "variants":
            for kind, cls in VARIANT_KINDS.items():
                keys |= schema_keys(cls, f"variants.<{kind}>.")
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= schema_keys(annotation, key + ".")
        else:
            keys.add(key)
    return keys


def _model_at(model: type[BaseModel], loc: tuple) -> tuple[type[BaseModel] | None, tuple]:
    """The schema class at a location such as ('train',) or ('variants', 'bn3', 'frame'), and
    the location as a user writes it (pydantic puts a union's tag into it: dropped)."""
    shown: list = []
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        shown.append(part)
        if model is Params and part == "variants":
            if not parts:
                return None, tuple(shown)
            shown.append(parts.pop(0))  # the variant's name
            if parts and parts[0] in VARIANT_KINDS:
                model = VARIANT_KINDS[parts.pop(0)]
                continue
            return None, tuple(shown + parts)
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None, tuple(shown + parts)
        model = annotation
    return model, tuple(shown)


def elsewhere(parent: type[BaseModel] | None, shown: tuple) -> str:
    """Where a misplaced key belongs: a section below (train.epochs -> train.clip.epochs) or
    the variants of the other kind."""
    name, above = str(shown[-1]), ".".join(str(p) for p in shown[:-1])
    if parent in VARIANT_KINDS.values():
        kinds = [k for k, cls in VARIANT_KINDS.items() if name in cls.model_fields]
        return f"; {name} is a setting of kind {kinds[0]} variants" if kinds else ""
    below = [f"{above}.{field}.{close[0]}" for field, info in (parent.model_fields.items() if parent else [])
             if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
             for close in [difflib.get_close_matches(name, list(info.annotation.model_fields), 1)] if close]
    return f"; did you mean {' or '.join(repr(b) for b in below)}?" if below else ""


def describe(err: ValidationError, schema: type[BaseModel], where: str) -> str:
    """Every validation error as `key: what is wrong`, on one line."""
    parts = []
    for e in err.errors():
        loc = tuple(e["loc"])
        parent, _ = _model_at(schema, loc[:-1]) if loc else (schema, ())
        _, shown = _model_at(schema, loc)
        key = ".".join(str(p) for p in shown) or "(top level)"
        if e["type"] == "extra_forbidden":
            names = list(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(loc[-1]), names, 1)
            hint = f"; did you mean {'.'.join(str(p) for p in shown[:-1] + (close[0],))!r}?" if close else ""
            parts.append(f"{key}: unknown key{hint or elsewhere(parent, shown)}")
        elif e["type"] == "missing":
            parts.append(f"{key}: missing; every setting must be written in params.yaml")
        elif e["type"] == "union_tag_not_found":
            parts.append(f"{key}.kind: missing; a variant needs kind: {' or '.join(VARIANT_KINDS)}")
        elif e["type"] == "union_tag_invalid":
            parts.append(f"{key}.kind: {e.get('input', {}).get('kind')!r} is not allowed: one of "
                         f"{', '.join(VARIANT_KINDS)}")
        elif e["type"] == "value_error":
            parts.append(f"{key + ': ' if loc else ''}{e['msg'].removeprefix('Value error, ')}")
        else:
            parts.append(f"{key}: {e.get('input')!r} is not allowed: {e['msg']}")
    return f"{where}: " + "; ".join(parts)
