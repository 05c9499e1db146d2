"""GitOps for the MLflow Model Registry: desired state in models/*.yaml, validate, plan, apply, import."""

__version__ = "0.1.0"
