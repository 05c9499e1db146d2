"""The REST floor: the least a reader of the whole registry can take, as a whole process.

    MLFLOW_TRACKING_URI=... MLFLOW_TRACKING_USERNAME=... MLFLOW_TRACKING_PASSWORD=... python bench/rest_floor.py

One paged search of the registered models (pages of 1,000) and one of the versions (pages of
10,000), raw HTTP on one kept-alive connection (the standard library's http.client), each page's
JSON decoded only to find the next page token. No MLflow, no reconciler import. Prints the number
of models and versions read, so a caller can check it read what the plan read.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import sys
from urllib.parse import urlencode, urlsplit

MODELS = "/api/2.0/mlflow/registered-models/search"
VERSIONS = "/api/2.0/mlflow/model-versions/search"


def pages(conn: http.client.HTTPConnection, headers: dict[str, str], path: str, key: str, size: int) -> int:
    count, token = 0, None
    while True:
        query = {"max_results": size, **({"page_token": token} if token else {})}
        conn.request("GET", f"{path}?{urlencode(query)}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}: {body[:200]!r}")
        data = json.loads(body)
        count += len(data.get(key, []))
        token = data.get("next_page_token")
        if not token:
            return count


def main() -> int:
    uri = urlsplit(os.environ["MLFLOW_TRACKING_URI"])
    conn = http.client.HTTPConnection(uri.hostname or "127.0.0.1", uri.port or 80, timeout=60)
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    headers = {}
    if user and password:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    models = pages(conn, headers, MODELS, "registered_models", 1000)
    versions = pages(conn, headers, VERSIONS, "model_versions", 10_000)
    sys.stdout.write(f"{models} models, {versions} versions\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
