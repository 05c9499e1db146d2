"""Production health: the model file's `monitoring:` section (spec.py), the library serving code
calls to log production metrics as MLflow runs (log.py, drift.py), and `reconciler health`'s
evaluation (evaluate.py: pure), registry reads (read.py) and webhook alerts (alerts.py)."""
