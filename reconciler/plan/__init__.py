"""Planning: plan values, the builder (pairs desired with live), retention, references, rendering, saved plans.

Pure: no I/O and nothing from MLflow.
"""
