"""Smoke test of a model version before it gains a protected alias or stage: score its logged input
example through MLflow's scoring path and check the answer against its signature.

check.py is pure (a scored answer + the signature -> problems); run.py loads from the registry and
scores; settings.py is the model file's `smoke:` section. Nothing here writes to the registry.
"""

from reconciler.smoke.result import Outcome, SmokeResult

__all__ = ["Outcome", "SmokeResult"]
