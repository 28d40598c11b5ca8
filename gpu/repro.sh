#!/usr/bin/env bash
# Reproduce the pipeline or run experiments, and write the Markdown report a pull request
# gets. The GPU workflow calls this script; it runs the same on a workstation or a CPU.
#
#   gpu/repro.sh [--variants "bn3 lrn5_att"] [-S key=value]... [--report FILE] [--keep-as-base]
#
# The report compares this run with the last run kept with --keep-as-base (the workflow
# keeps main's) on the same data sources, on this machine: like with like, never against
# the synthetic numbers committed to git.
#
# Environment (all optional):
#   APEXSPOT_DATA   runner-local folder holding CASME2/ and/or SAMM/ (layout as data/raw/);
#                   copied into data/raw/ as hard links where it can be, added to DVC
#                   (`dvc add`, as the README says) and selected as the sources
#   DVC_CACHE_DIR   a DVC cache kept between runs (so preprocessing is not recomputed)
#   APEXSPOT_HOME   runner-local folder for kept results (default ~/.cache/apexspot)
set -euo pipefail
cd "$(dirname "$0")/.."

variants="" report="report.md" keep=0
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --variants) variants="$2"; shift 2 ;;
    -S|--set) sets+=(-S "$2"); shift 2 ;;
    --report) report="$2"; shift 2 ;;
    --keep-as-base) keep=1; shift ;;
    *) echo "gpu/repro.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -n "${DVC_CACHE_DIR:-}" ]; then
  mkdir -p "$DVC_CACHE_DIR"
  dvc cache dir --local "$DVC_CACHE_DIR"
  dvc config --local cache.shared group
  dvc config --local cache.type "reflink,hardlink,copy"
fi

sources=synthetic
if [ -n "${APEXSPOT_DATA:-}" ]; then
  found=()
  for name in CASME2 SAMM; do
    if [ -d "$APEXSPOT_DATA/$name" ]; then
      # Not a symlink: DVC hashes a symlinked folder as empty, and the run cache would then
      # hand back another dataset's results. Hard links cost no space on the same file system.
      rm -rf "data/raw/$name"
      cp -al "$APEXSPOT_DATA/$name" "data/raw/$name" 2>/dev/null || cp -a "$APEXSPOT_DATA/$name" "data/raw/$name"
      dvc add -q "data/raw/$name"
      found+=("$(echo "$name" | tr '[:upper:]' '[:lower:]')")
    fi
  done
  [ ${#found[@]} -gt 0 ] || { echo "gpu/repro.sh: no CASME2/ or SAMM/ in $APEXSPOT_DATA" >&2; exit 1; }
  sources=$(IFS=,; echo "${found[*]}")
  sets+=(-S "data.sources=[$sources]")
fi
kept="${APEXSPOT_HOME:-$HOME/.cache/apexspot}/results/$sources/mae.json"

if [ -n "$variants" ]; then
  for variant in $variants; do
    dvc exp run --temp -n "ci-$variant" -S "variant=$variant" "${sets[@]}"
  done
elif [ ${#sets[@]} -gt 0 ]; then
  dvc exp run "${sets[@]}"
else
  dvc repro
fi

{
  echo "## apexspot: apex MAE (frames), data: $sources"
  echo
  if [ -z "$variants" ]; then
    if [ -f "$kept" ]; then
      echo "### This run against the kept base run (same data, same runner)"
      echo
      python -m apexspot.cli compare "$kept" metrics/mae.json
    else
      echo "(no base run kept for $sources on this runner yet: main's next run keeps one)"
    fi
    echo
  fi
  echo "### Experiments"
  echo
  dvc exp show --md --drop '.*' --keep '^(Experiment|variant|model\.(mae|ci_low|ci_high)|diff\.(mean|ci_high)|centre\.mae)$'
} > "$report"
if [ "$keep" -eq 1 ] && [ -z "$variants" ]; then
  mkdir -p "$(dirname "$kept")"
  cp metrics/mae.json "$kept.tmp" && mv "$kept.tmp" "$kept"
  echo "gpu/repro.sh: kept metrics/mae.json as the base for $sources" >&2
fi
echo "gpu/repro.sh: wrote $report" >&2
