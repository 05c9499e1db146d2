"""Laid into the server image's site-packages as sitecustomize.py by tests/integration/k8s_pod.py (an
instrumented image, the manifest unchanged): records every SQLAlchemy engine the MLflow server
process creates and disposes, with its pool's size and overflow, as JSON lines in
/tmp/sqlalchemy-engines.jsonl (the pod's /tmp volume)."""

import json
import os

try:
    import sqlalchemy
    from sqlalchemy.engine import Engine
except ImportError:  # not every interpreter in the image has it
    sqlalchemy = None


def _write(event, engine):
    pool = engine.pool
    record = {
        "event": event,
        "pid": os.getpid(),
        "engine": id(engine),
        "database": engine.url.database,
        "pool": type(pool).__name__,
        "size": pool.size() if hasattr(pool, "size") else None,
        "max_overflow": getattr(pool, "_max_overflow", None),
    }
    with open("/tmp/sqlalchemy-engines.jsonl", "a") as out:
        out.write(json.dumps(record) + "\n")


if sqlalchemy is not None:
    _create, _dispose = sqlalchemy.create_engine, Engine.dispose

    def create_engine(*args, **kwargs):
        engine = _create(*args, **kwargs)
        _write("created", engine)
        return engine

    def dispose(self, *args, **kwargs):
        _write("disposed", self)
        return _dispose(self, *args, **kwargs)

    sqlalchemy.create_engine = create_engine
    Engine.dispose = dispose
