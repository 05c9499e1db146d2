"""reconciler/masking.py: no generated credential survives in any URI shape a user or a library
writes, in any sentence around it; what is not a credential is left as it was."""

from __future__ import annotations

import base64
import os
import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler.masking import clip, mask
from tests.support.examples import examples

# A password: any printable character but white space (which no word can hold), at least 8 of them.
PASSWORD_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="\t\n\r\x0b\x0c\x85"
)
passwords = st.text(PASSWORD_CHARS, min_size=8, max_size=40)
# A user name, a token or a query value as URIs carry them (the query value percent-encoded).
users = st.text(string.ascii_letters + string.digits + "._~-", min_size=1, max_size=12)
tokens = st.text(string.ascii_letters + string.digits + "._~-%", min_size=8, max_size=40)
schemes = st.sampled_from(
    ["postgresql", "postgres", "postgresql+psycopg", "mysql", "http", "https", "htps", "sqlite", "s3", "ftp"]
)
hosts = st.sampled_from(["127.0.0.1:1", "db", "mlflow.example.com", "[::1]:5000", "[::1", "", "h:abc"])
paths = st.sampled_from(["", "/", "/db", "/mlflow?sslmode=require", "/#/experiments/1/runs/9f", "/x.db"])
SENTENCES = [
    "{}",
    "got unsupported URI '{}' for model registry data storage.",
    'Invalid url: "{}/api/2.0/mlflow/registered-models/search"',
    "error: the registry ({}) answered 500",
    "🏃 View run apply at: {}",
    "uri={}; check MLFLOW_TRACKING_URI",
    "<{}>",
    "[{}]",
]


def shapes() -> st.SearchStrategy[tuple[str, str]]:
    """(text, secret): a credential inside a URI shape."""
    with_password = st.tuples(
        st.sampled_from(["{s}://{u}:{p}@{h}{path}", "{s}//{u}:{p}@{h}{path}", "{s}:/{u}:{p}@{h}{path}", "{u}:{p}@{h}"]),
        schemes,
        users,
        passwords,
        hosts,
        paths,
    ).map(lambda t: (t[0].format(s=t[1], u=t[2], p=t[3], h=t[4], path=t[5]), t[3]))
    with_token = st.tuples(schemes, tokens, hosts, paths).map(lambda t: (f"{t[0]}://{t[1]}@{t[2]}{t[3]}", t[1]))
    in_query = st.tuples(
        schemes,
        hosts,
        st.sampled_from(["password", "sslpassword", "token", "X-Amz-Signature", "X-Amz-Security-Token", "sig", "pwd"]),
        tokens,
        st.sampled_from(["", "&sslmode=require", "#frag"]),
    ).map(lambda t: (f"{t[0]}://{t[1]}/db?a=1&{t[2]}={t[3]}{t[4]}", t[3]))
    named = st.tuples(
        st.sampled_from(["MLFLOW_TRACKING_PASSWORD={}", "password={}", "{{'password': '{}'}}", '"token": "{}"']),
        tokens,
    ).map(lambda t: (t[0].format(t[1]), t[1]))
    header = tokens.map(lambda t: (f"Authorization: Bearer {t}", t))
    return st.one_of(with_password, with_token, in_query, named, header)


@settings(max_examples=examples(3000), deadline=None)
@given(shapes(), st.sampled_from(SENTENCES))
def test_no_generated_credential_survives(shape, sentence):
    text, secret = shape
    message = sentence.format(text)
    assume(secret not in message.replace(secret, "", 1))  # the secret occurs once, as the credential
    masked = mask(message)
    assert secret not in masked, masked
    assert mask(masked) == masked  # idempotent: a masked message passes through again unchanged


@settings(max_examples=examples(500), deadline=None)
@given(shapes(), st.integers(min_value=0, max_value=200))
def test_a_clipped_message_holds_no_part_of_the_credential_it_cut(shape, limit):
    text, secret = shape
    message = f"cannot open the audit journal: {text}; nothing was written"
    assume(secret not in message.replace(secret, "", 1))
    cut = clip(message, limit)
    assert not any(
        secret[:n] in cut for n in range(4, len(secret) + 1) if secret[:n] not in message.replace(secret, "")
    )


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgres://bob:S3cretPW@127.0.0.1:1/db", "postgres://bob:***@127.0.0.1:1/db"),
        ("htps://bob:S3cretPW@host/x", "htps://bob:***@host/x"),
        ("http//bob:S3cretPW@host", "http//bob:***@host"),
        ("http:/bob:S3cretPW@host", "http:/bob:***@host"),
        ("bob:S3cretPW@host", "bob:***@host"),
        ("http://u:S3cretPW@[::1", "http://u:***@[::1"),
        ("sqlite://u:S3cretPW@/x.db", "sqlite://u:***@/x.db"),
        ("https://tok3n@mlflow.example.com", "https://***@mlflow.example.com"),
        ("http://u:p@ss@host/p", "http://u:***@host/p"),
        ("http:/u:a//b@host", "http:/u:***@host"),
        ("db?sslmode=require&password=s3cret&sslpassword=k", "db?sslmode=require&password=***&sslpassword=***"),
        ("the URI http://bob:S3cr; check it", "the URI http://bob:***; check it"),  # cut before its @
        ("x-access-token:ghs_" + "b" * 36 + "@github.com", "x-access-token:***@github.com"),
        ("token ghp_" + "a" * 36 + ".", "token ***."),
        ("uri=MLFLOW_TRACKING_PASSWORD=hunter22; x", "uri=MLFLOW_TRACKING_PASSWORD=***; x"),
        ('{\'password\': \'a b\'} "token": "x\\"y"', "{'password': '***'} \"token\": \"***\""),
    ],
)
def test_the_shapes_a_hostile_review_found(text, masked):
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "models:/churn@champion",
        "alice@example.com committed it",
        "git@github.com:org/repo.git",
        "http://127.0.0.1:5000/#/experiments/1/runs/9f",
        "(http://[::1]:5000)",
        "~ churn v3 stage: 'Staging' -> 'Production'",
        "+ churn tag[api_key] = 'x'",
        '{"address": {"model": "m", "version": null, "field": "tag", "key": "token"}, "before": "a"}',
        '  File "/x.py", line 3, in f\n    @contextmanager\nValueError: Invalid IPv6 URL',
        "See https://www.mlflow.org/docs/latest/tracking.html#backend-stores",
        "sha256:9f2c… plan 3f1c, set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)",
    ],
)
def test_what_is_no_credential_is_kept(text):
    assert mask(text) == text


@pytest.mark.parametrize(
    "word",
    ["key" * 300_000 + "=", "a=" * 500_000, "x" * 1_000_000 + "@" + "/" * 100_000, "a//" * 300_000 + "@x",
     " ".join(["'password'"] * 100_000) + ": ", '"token": "' + "\\" * 100_001, "ghp_" + "a" * 1_000_000],
)  # fmt: skip
def test_masking_takes_linear_time_on_hostile_text(word):
    """All of a command's output passes through mask: a pattern that backtracks would hang it
    (the first key=value pattern took minutes on the first of these)."""
    import time

    start = time.perf_counter()
    mask(word)
    assert time.perf_counter() - start < 5


def test_the_plan_comments_data_block_survives():
    """Base64 of any bytes is no credential: the signed data block must reach GitHub as it was."""
    for _ in range(300):
        block = f"<!-- reconciler-data: {base64.urlsafe_b64encode(os.urandom(3000)).decode()} -->"
        assert mask(block) == block


SECRET = "S3cret-Pass-9f2c"
URI = f"http://admin:{SECRET}@127.0.0.1:5000"


def test_everything_printed_logged_or_warned_inside_the_error_handler_is_masked(capsys, tmp_path):
    """MLflow's loggers have a handler of their own and do not propagate (a root-handler filter
    misses them), and a handler made before the command holds the stream it was given."""
    import logging
    import sys
    import warnings

    from reconciler.error_handler import error_handler

    early = tmp_path / "early.log"
    own = logging.getLogger("test_masking.like_mlflow")
    handler = logging.FileHandler(early)
    own.addHandler(handler)
    own.propagate = False
    try:
        with error_handler():
            print(f"🏃 View run apply at: {URI}/#/experiments/1/runs/9f")
            sys.stdout.write(f"partial {URI[:12]}")  # one line in two writes
            sys.stdout.write(f"{URI[12:]} end\n")
            sys.stdout.buffer.write(f"bytes {URI}\n".encode())
            own.warning("Retrying after connection broken: %s", URI)
            try:
                raise ConnectionError(f"cannot reach {URI}")
            except ConnectionError:
                own.exception("failed")
            logging.getLogger("test_masking.root").error("via the root logger: %s", URI)
            warnings.warn(f"a warning quoting {URI}", UserWarning, stacklevel=1)
    finally:
        own.removeHandler(handler)
        handler.close()
    captured = capsys.readouterr()
    logged = early.read_text()
    for text in (captured.out, captured.err, logged):
        assert SECRET not in text
    assert "View run apply at: http://admin:***@127.0.0.1:5000/#/experiments/1/runs/9f" in captured.out
    assert "partial http://admin:***@127.0.0.1:5000 end" in captured.out and "bytes http://admin:***@" in captured.out
    assert "Retrying after connection broken: http://admin:***@" in logged and "ConnectionError" in logged
    assert "a warning quoting http://admin:***@" in captured.err


def test_the_streams_and_hooks_are_restored_after_the_command():
    import logging
    import sys
    import warnings

    from reconciler.output import masked_output

    before = sys.stdout, sys.stderr, logging.getLogRecordFactory(), warnings.showwarning
    with masked_output():
        assert sys.stdout is not before[0]
    assert (sys.stdout, sys.stderr, logging.getLogRecordFactory(), warnings.showwarning) == before
