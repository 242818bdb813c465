"""engine.builder.checking: `caseloom check` over a set of files, called directly."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.builder.checking import CODE_SAME_VERSION, FileCheck, check_files

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def _codes(check: FileCheck) -> list[str]:
    return [p.code for p in check.problems]


def test_same_id_and_version_in_two_files_is_an_error_in_each_naming_both(
    tmp_path: Path,
) -> None:
    first = tmp_path / "a.yaml"
    shutil.copy(PROCESSES / "fraud_check.yaml", first)
    second = tmp_path / "b.yaml"
    # The same id and version with other content; the second file also has another error.
    text = (PROCESSES / "fraud_check.yaml").read_text()
    other = text.replace("name:", "name: Other", 1).replace("stages:", "bogus: 1\nstages:")
    second.write_text(other)
    checks = {Path(c.file).name: c for c in check_files([first, second])}
    assert not checks["a.yaml"].ok and not checks["b.yaml"].ok
    [same_a] = [p for p in checks["a.yaml"].problems if p.code == CODE_SAME_VERSION]
    [same_b] = [p for p in checks["b.yaml"].problems if p.code == CODE_SAME_VERSION]
    assert same_a.message == same_b.message
    assert f"{first}:{same_a.line}" in same_a.message
    assert f"{second}:{same_b.line}" in same_a.message
    assert same_a.path == "id" and same_a.line is not None
    assert len(checks["b.yaml"].problems) > 1  # its own error is reported as well


def test_identical_definitions_and_a_file_named_twice_are_not_a_clash(tmp_path: Path) -> None:
    copy = tmp_path / "fraud_check.yaml"
    shutil.copy(PROCESSES / "fraud_check.yaml", copy)
    checks = check_files([PROCESSES / "fraud_check.yaml", copy, copy])
    assert [c.ok for c in checks] == [True, True]
    assert all(CODE_SAME_VERSION not in _codes(c) for c in checks)


def test_SC5_subcase_process_among_the_files_is_known_else_a_warning() -> None:
    alone = check_files([PROCESSES / "claim.yaml"])
    assert alone[0].ok and {p.severity for p in alone[0].problems} == {"warning"}
    assert all("'fraud_check'" in p.message for p in alone[0].problems)
    together = check_files([PROCESSES / "claim.yaml", PROCESSES / "fraud_check.yaml"])
    assert all(c.ok for c in together)
    assert not any("fraud_check" in p.message for c in together for p in c.problems)
