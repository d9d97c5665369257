"""Names from sources never become paths."""

from __future__ import annotations

import stat

import pytest

from extractkit.tempfiles import private_file, safe_suffix


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "..\\..\\windows\\system.ini", "a/../../b.pdf", "\x00evil.pdf", "....//x"],
)
def test_hostile_names_stay_inside_the_job_folder(tmp_path, name):
    workdir = tmp_path / "job"
    workdir.mkdir()
    path = private_file(workdir, name)
    assert path.parent == workdir
    assert path.exists() and path.stat().st_size == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "passwd" not in path.name and ".." not in path.name


def test_suffix_is_kept_only_when_plain():
    assert safe_suffix("reports/2024/q1.pdf") == ".pdf"
    assert safe_suffix("scan.TIFF") == ".TIFF"
    assert safe_suffix("../../etc/passwd") == ""
    assert safe_suffix("x.p df") == ""
    assert safe_suffix("x." + "a" * 40) == ""
