#!/usr/bin/env bash
# Reproduce the pipeline or run experiments, and write the Markdown report a pull request
# gets. The GPU workflow calls this script; it runs the same on a workstation or a CPU.
#
#   ci/repro.sh [--variants "bn3 lrn5_att"] [-S key=value]... [--report FILE] [--base REV]
#               [--report-only]
#
# Environment (all optional):
#   APEXSPOT_DATA   runner-local folder holding CASME2/ and/or SAMM/ (layout as data/raw/);
#                   linked into data/raw/ and selected as the sources
#   DVC_CACHE_DIR   a DVC cache kept between runs (so preprocessing is not recomputed)
set -euo pipefail
cd "$(dirname "$0")/.."

variants="" report="report.md" base="main" report_only=0
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --variants) variants="$2"; shift 2 ;;
    -S|--set) sets+=(-S "$2"); shift 2 ;;
    --report) report="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --report-only) report_only=1; shift ;;
    *) echo "ci/repro.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -n "${DVC_CACHE_DIR:-}" ]; then
  mkdir -p "$DVC_CACHE_DIR"
  dvc cache dir --local "$DVC_CACHE_DIR"
  dvc config --local cache.shared group
  dvc config --local cache.type "reflink,hardlink,copy"
fi

if [ -n "${APEXSPOT_DATA:-}" ]; then
  found=()
  for name in CASME2 SAMM; do
    if [ -d "$APEXSPOT_DATA/$name" ]; then
      ln -sfn "$APEXSPOT_DATA/$name" "data/raw/$name"
      found+=("$(echo "$name" | tr '[:upper:]' '[:lower:]')")
    fi
  done
  [ ${#found[@]} -gt 0 ] || { echo "ci/repro.sh: no CASME2/ or SAMM/ in $APEXSPOT_DATA" >&2; exit 1; }
  sets+=(-S "data.sources=[$(IFS=,; echo "${found[*]}")]")
fi

if [ "$report_only" -eq 0 ]; then
  if [ -n "$variants" ]; then
    for variant in $variants; do
      dvc exp run -n "ci-$variant" -S "variant=$variant" "${sets[@]}"
    done
  elif [ ${#sets[@]} -gt 0 ]; then
    dvc exp run "${sets[@]}"
  else
    dvc repro
  fi
fi

{
  echo "## apexspot: apex MAE (frames)"
  echo
  if git rev-parse --verify --quiet "$base" >/dev/null; then
    echo "### Workspace against \`$base\`"
    echo
    dvc metrics diff "$base" --md || echo "(no metrics to compare)"
    echo
  fi
  echo "### Experiments"
  echo
  dvc exp show --md --drop '.*' --keep '^(Experiment|variant|model\.mae|model\.median_ae|centre\.mae)$'
} > "$report"
echo "ci/repro.sh: wrote $report" >&2
