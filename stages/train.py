"""DVC stage train: data/flow + data/folds.json -> models/fold_<k>.keras, metrics/train/fold_<k>/ (dvclive)."""

import json
import sys
from dataclasses import asdict
from pathlib import Path

import yaml
from dvclive import Live

from apexspot import clipfiles
from apexspot.atomic import atomic_dir
from apexspot.datasets.manifest import read_manifest
from apexspot.errors import ApexspotError
from apexspot.flow import FlowParams
from apexspot.model import Variant, build_model
from apexspot.params import load_params, section
from apexspot.training import (TrainParams, device_info, make_deterministic, save_model, set_precision,
                               train_fold)


def main() -> None:
    params = load_params()
    p = TrainParams.from_params(section(params, "train"))
    name = params.get("variant")
    if name not in (params.get("variants") or {}):
        raise ApexspotError(f"params.yaml: variant {name!r} is not one of variants: {', '.join(params['variants'])}")
    variant = Variant.from_params(params["variants"][name])
    flow = FlowParams.from_params(section(params, "flow"))
    shape = (flow.size, flow.size, len(flow.channels))
    clips = [c for c in read_manifest("data/manifest.csv") if clipfiles.clip_file("data/flow", c.clip_id).exists()]
    folds = json.loads(Path("data/folds.json").read_text())["folds"]
    device = device_info() | {"precision": set_precision(p.mixed_precision)}
    print(f"train: variant {name} {asdict(variant)} on {device['device']} ({device['backend']})")
    with atomic_dir("models") as models, atomic_dir("metrics/train") as logs:
        for fold in folds:
            k, held = fold["fold"], set(fold["clips"])
            make_deterministic(p.seed + k)
            train = [c for c in clips if c.clip_id not in held]
            held_out = [c for c in clips if c.clip_id in held]
            live = Live(dir=str(logs / f"fold_{k}"), save_dvc_exp=False, dvcyaml=False)
            live.log_params({"fold": k, "variant": name, **asdict(variant), **vars(p), **device,
                             "train_clips": len(train), "held_out_clips": len(held_out)})
            print(f"fold {k}: {len(train)} training clips, {len(held_out)} held out")
            model = build_model(variant, shape)
            train_fold(model, train, held_out, "data/flow", p, live)
            live.end()
            save_model(model, models / f"fold_{k}.keras")
        # What `apexspot spot` needs to prepare a new recording exactly as the training data.
        (models / "params.yaml").write_text(yaml.safe_dump(
            {"face": params.get("face"), "flow": params.get("flow"), "variant": name,
             "variants": {name: params["variants"][name]}}, sort_keys=False))


if __name__ == "__main__":
    try:
        main()
    except (ApexspotError, ValueError) as err:
        sys.exit(f"train: error: {err}")
