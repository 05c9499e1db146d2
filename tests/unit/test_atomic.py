"""The one writer of output files (`plan --out`, `import`, `codeowners`): a regular file or
nothing is replaced whole; anything else is refused and left as it was; modes are kept or come
from the umask (each case failed before the fix)."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconciler.atomic import OutputError, write_atomic


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_a_symlink_is_refused_and_neither_it_nor_its_target_changes(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old\n")
    link = tmp_path / "plan.json"
    link.symlink_to(target)
    with pytest.raises(OutputError) as refused:
        write_atomic(link, "new\n")
    message = str(refused.value)
    assert message.startswith(f"{link}: is a symbolic link (to {target})") and "\n" not in message
    assert link.is_symlink() and os.readlink(link) == str(target) and target.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_a_dangling_symlink_is_refused_and_nothing_is_created(tmp_path):
    link = tmp_path / "plan.json"
    link.symlink_to(tmp_path / "elsewhere" / "x.json")
    with pytest.raises(OutputError, match="is a symbolic link"):
        write_atomic(link, "new\n")
    assert link.is_symlink() and not (tmp_path / "elsewhere").exists()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


def _device(path: Path) -> None:
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # like /dev/full, in a scratch directory


def _directory(path: Path) -> None:
    path.mkdir()


SPECIAL = [
    pytest.param(_fifo, "a named pipe (FIFO)", stat.S_ISFIFO, id="fifo"),
    pytest.param(_socket, "a socket", stat.S_ISSOCK, id="socket"),
    pytest.param(_directory, "a directory", stat.S_ISDIR, id="directory"),
    pytest.param(
        _device,
        "a character device",
        stat.S_ISCHR,
        id="device",
        marks=pytest.mark.skipif(os.geteuid() != 0, reason="only root may make a device node"),
    ),
]


@pytest.mark.parametrize(("make", "kind", "still"), SPECIAL)
def test_what_is_not_a_regular_file_is_refused_and_left_in_place(tmp_path, make, kind, still):
    path = tmp_path / "out.json"
    make(path)
    with pytest.raises(OutputError) as refused:
        write_atomic(path, "plan\n")
    assert str(refused.value) == (
        f"{path}: is {kind}, not a regular file; refusing to replace it: give the path of a file"
    )
    assert still(os.lstat(path).st_mode), "replaced"
    assert leftovers(tmp_path) == []


def test_dash_is_refused_rather_than_written_as_a_file_named_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match=r"^'-': writing to standard output is not supported here"):
        write_atomic(Path("-"), "plan\n")
    assert list(tmp_path.iterdir()) == []
    write_atomic(Path("./-x"), "a file whose name starts with a dash is fine\n")
    assert (tmp_path / "-x").exists()


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)], ids=oct
)
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, mask, expected):
    path = tmp_path / "sub" / "new.json"
    with umask(mask):
        write_atomic(path, "x\n")
    assert mode(path) == expected and path.read_text() == "x\n"


@pytest.mark.parametrize("kept", [0o644, 0o640, 0o600, 0o664, 0o444], ids=oct)
def test_an_existing_file_keeps_its_mode_whatever_the_umask(tmp_path, kept):
    path = tmp_path / "churn.yaml"
    path.write_text("old\n")
    path.chmod(kept)
    with umask(0o077):
        write_atomic(path, "new\n")
    assert mode(path) == kept and path.read_text() == "new\n"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_root_keeps_an_existing_files_owner(tmp_path):
    path = tmp_path / "CODEOWNERS"
    path.write_text("old\n")
    os.chown(path, 4242, 4343)
    write_atomic(path, "new\n")
    st = os.lstat(path)
    assert (st.st_uid, st.st_gid) == (4242, 4343) and path.read_text() == "new\n"


def test_a_path_under_a_file_is_one_line_and_changes_nothing(tmp_path):
    parent = tmp_path / "models"
    parent.write_text("not a directory\n")
    with pytest.raises(OutputError) as refused:
        write_atomic(parent / "churn.yaml", "new\n")
    assert (
        str(refused.value)
        == f"{parent / 'churn.yaml'}: cannot write it (Not a directory); check the path and its permissions"
    )
    assert parent.read_text() == "not a directory\n"
