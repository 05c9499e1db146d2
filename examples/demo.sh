#!/usr/bin/env bash
# The main job on the embedded default: train, register, validate, plan, apply, show the registry;
# then the loop back: promote, serve the champion, log production metrics, degrade, see health fail
# and the rollback it would propose.
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

step "8. A reviewed promotion: diabetes-regressor champion 1 -> 2, with serving: and monitoring: sections"
# A copy of models/ stands for the repository after the pull request merged (models/ is left as it is).
mkdir models && cp "$root"/models/*.yaml models/
sed -i.orig 's/^  champion: 1$/  champion: 2/' models/diabetes-regressor.yaml && rm models/diabetes-regressor.yaml.orig
cat >>models/diabetes-regressor.yaml <<'YAML'

serving:                 # what serves follows the file: this alias's version, pinned when the stack is built
  alias: champion
monitoring:              # `reconciler health` judges the served version by its production runs
  alias: champion
  window: {hours: 6}
  min_samples: 200
  rollback: true         # a breach may propose pointing the alias back (reconciler github propose-rollback)
  metrics:
    - {metric: r2, at_least: 0.3}
    - {metric: mae, no_worse_than_replaced_by: 5, lower_is_better: true}
    - {metric: psi_max, at_most: 0.25}
YAML
diff -u --label a/models/diabetes-regressor.yaml --label b/models/diabetes-regressor.yaml \
  "$root/models/diabetes-regressor.yaml" models/diabetes-regressor.yaml || true
reconciler apply --yes --models-dir models --commit demo-promotion --pull-request "#2" --approvers demo-reviewer

step "9. Serve the champion locally (v2, pinned from the file) and score a request"
python "$root/examples/serve_champion.py" models/diabetes-regressor.yaml

step "10. Production metrics (examples/production_monitoring.py): v1's last 6 hours, then v2's, degraded"
hours_ago() { python -c "import datetime as d; print((d.datetime.now(d.timezone.utc) - d.timedelta(hours=$1)).strftime('%Y-%m-%dT%H:%M:%S'))"; }
python "$root/examples/production_monitoring.py" diabetes-regressor 1 --windows 6 --end "$(hours_ago 6)" | tail -n 1
# --degrade shifts every input by one standard deviation, as a broken upstream feature pipeline would.
python "$root/examples/production_monitoring.py" diabetes-regressor 2 --windows 6 --degrade 1.0 | tail -n 1

step "11. reconciler health: the served version breaches (exit 1), and the rollback it would propose"
set +e
reconciler health --models-dir models --rollback-diff
code=$?
set -e
[ "$code" -eq 1 ] || { echo "expected exit 1 (a breach), got $code" >&2; exit 1; }
echo "exit $code. In CI, .github/workflows/health.yml alerts once per breach and opens this change as ONE pull request."

echo
echo "Registry: $PWD/mlflow.db  (browse it: mlflow ui --backend-store-uri sqlite:///$PWD/mlflow.db)"
