#!/usr/bin/env bash
# The main job on the embedded default: train, register, validate, plan, apply, show the registry.
# Everything happens in .demo/ (a fresh local SQLite registry each run); models/ is the desired state.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
unset MLFLOW_TRACKING_URI MLFLOW_REGISTRY_URI
rm -rf .demo && mkdir .demo && cd .demo
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Train two scikit-learn models and register versions (examples/train.py)"
python "$root/examples/train.py" 2>&1 | grep -E '^(Tracking|registered)'

step "2. Validate models/*.yaml (schema, semantics, references against the registry)"
reconciler validate --registry --models-dir "$root/models"

step "3. Plan: what would change, saved for review"
reconciler plan --models-dir "$root/models" --out plan.json

step "4. Apply exactly the reviewed plan, with an audit trail"
reconciler apply plan.json --commit "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo local)" \
  --approvers demo-reviewer

step "5. Plan again: nothing left to do"
reconciler plan --models-dir "$root/models" --detailed-exitcode

step "6. Who changed iris-classifier, and through which commit (the audit journal joined with git log)"
reconciler history iris-classifier --models-dir "$root/models"

step "7. The registry now"
python "$root/examples/show_registry.py"
echo
echo "Registry: $PWD/mlflow.db  (browse it: mlflow ui --backend-store-uri sqlite:///$PWD/mlflow.db)"
