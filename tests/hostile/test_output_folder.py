"""The output folder: a build writes only inside it, never into a user's unrelated folder, and a
folder it cannot use (a file, read-only, a full disk) is a one-line error, not an internal one."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtrain_data.errors import DiskFullError, InputError, user_error_from_os_error
from memtrain_data.output_folder import prepare_output
from tests.hostile.helpers import assert_one_line_error, run_cli, tree


def foreign_folder(root: Path) -> Path:
    """A user's folder that is not a memtrain build: their README, a paper, and a stray pool shard."""
    folder = root / "my-project"
    (folder / "pool").mkdir(parents=True)
    (folder / "README.md").write_text("# My thesis project\n")
    (folder / "thesis.txt").write_text("chapter 1\n")
    (folder / "pool" / "passages-00000-of-00001.parquet").write_bytes(b"not memtrain's")
    return folder


def test_a_non_empty_folder_that_is_not_a_memtrain_build_is_refused_and_left_untouched(tmp_path: Path) -> None:
    folder = foreign_folder(tmp_path)
    before = tree(folder)

    result = run_cli("build-dataset", "--output", folder)

    assert_one_line_error(result, "is not empty and is not a memtrain build", "--overwrite")
    assert tree(folder) == before
    assert not (folder / ".memtrain").exists()


def test_overwrite_replaces_only_what_a_build_writes_and_keeps_the_users_other_files(tmp_path: Path) -> None:
    folder = foreign_folder(tmp_path)

    notes = prepare_output(folder, config_name="mini", overwrite=True)

    assert (folder / "thesis.txt").read_text() == "chapter 1\n"
    assert not (folder / "README.md").exists(), "the build writes its own card"
    assert not (folder / "pool").exists(), "a stray pool shard is never read as passages"
    assert (folder / ".memtrain").is_dir(), "from now on the folder is a memtrain build"
    assert notes and "removed README.md, pool" in notes[0]


def test_empty_folders_and_earlier_builds_need_no_overwrite(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_output(empty, config_name="mini") == []
    (empty / "README.md").write_text("written by the build\n")
    assert prepare_output(empty, config_name="mini") == [], "a memtrain build is resumed, not refused"
    assert prepare_output(tmp_path / "new" / "deeper", config_name="mini") == []


def test_an_output_path_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me\n")

    result = run_cli("build-dataset", "--output", target)

    assert_one_line_error(result, "is a file, not a folder")
    assert target.read_text() == "keep me\n"
    assert_one_line_error(run_cli("build-dataset", "--output", target / "inside"), "a file is in the way")


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder this process cannot write: chmod for ordinary users, a read-only mount for root."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("running as root without permission to mount a read-only file system")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_read_only_output_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with read_only_folder(tmp_path / "ro") as folder:
        result = run_cli("build-dataset", "--output", folder)
        assert_one_line_error(result, "cannot write", str(folder))


def test_a_full_disk_during_a_build_says_disk_full_and_keeps_finished_work(tmp_path: Path) -> None:
    output = tmp_path / "out"
    (output / ".memtrain").mkdir(parents=True)
    # stats.json is written through a temporary file: on /dev/full every write fails with ENOSPC.
    (output / "stats.json.tmp").symlink_to("/dev/full")

    result = run_cli("build-dataset", "--output", output)

    assert_one_line_error(result, "disk full while writing", "rerun the same command")
    assert list((output / "pool").glob("passages-*.parquet")), "the pool finished before the disk filled"


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        OSError("122081 requested and 64480 written"),  # numpy's short write (the BM25 index), no errno
    ],
)
def test_every_form_of_a_full_disk_is_reported_as_disk_full(error: OSError) -> None:
    wrapped = RuntimeError("a pool task failed")
    wrapped.__cause__ = error
    assert isinstance(user_error_from_os_error(error, "/data/out"), DiskFullError)
    assert isinstance(user_error_from_os_error(wrapped, "/data/out"), DiskFullError), "found through the cause chain"
    assert user_error_from_os_error(RuntimeError("a bug")) is None, "anything else stays an internal error"


def test_parquet_input_with_the_right_columns_but_wrong_types_is_a_one_line_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "wiki.parquet"
    pq.write_table(pa.table({"id": ["1"], "url": ["u"], "title": ["A"], "text": pa.array([12345], pa.int64())}), source)

    result = run_cli("build-dataset", "--dump", source, "--output", tmp_path / "out")

    assert_one_line_error(result, "column types", "text is int64")


def test_user_errors_are_input_errors_with_exit_code_2() -> None:
    error = user_error_from_os_error(OSError(errno.EROFS, "Read-only file system", "/data/out/x"), "/data/out")
    assert isinstance(error, InputError) and error.exit_code == 2
    assert "read-only" in str(error)
