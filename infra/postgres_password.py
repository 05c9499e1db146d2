"""Apply the generated PostgreSQL password on every start, not only at initdb.

The official image reads POSTGRES_PASSWORD once, when it initialises an empty data directory; the
volume outlives the container (and the pod: a StatefulSet's claim stays when its pod is replaced).
So a rotated or re-generated password would never reach the database. This command sets it over
the server's Unix socket, which the image trusts for local connections (initdb's default for
`local`, unchanged by the image's entrypoint). Both targets run it: Docker in a one-shot
container sharing the socket volume, Kubernetes as the PostgreSQL container's postStart hook.

Pure: no Pulumi import (tests/integration runs it against a real PostgreSQL).
"""

from __future__ import annotations

SOCKET_DIR = "/var/run/postgresql"
ROLE = "mlflow"
# psql quotes the :'pw' variable itself: no password reaches the SQL text unquoted.
SQL = f"ALTER ROLE {ROLE} WITH PASSWORD :'pw';"


def set_password_command(socket_dir: str = SOCKET_DIR, attempts: int = 60) -> tuple[str, ...]:
    """`sh -c` script: wait for the server on the socket, then set the role's password from
    $POSTGRES_PASSWORD. Exits non-zero when the server never answers or the statement fails."""
    psql = (
        f'printf "%s\\n" "{SQL}" | psql -X -q -v ON_ERROR_STOP=1 -h {socket_dir} -U {ROLE} -d postgres '
        '-v pw="$POSTGRES_PASSWORD" -f -'
    )
    script = (
        f'test -n "$POSTGRES_PASSWORD" || {{ echo "POSTGRES_PASSWORD is empty" >&2; exit 1; }}; '
        f"i=0; until pg_isready -q -h {socket_dir} -U {ROLE}; do "
        f'i=$((i+1)); [ "$i" -ge {attempts} ] && {{ echo "PostgreSQL did not start" >&2; exit 1; }}; sleep 2; done; '
        f"{psql}"
    )
    return ("sh", "-c", script)
