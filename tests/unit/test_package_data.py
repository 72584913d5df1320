"""An installed (non-editable) package must carry every file the code reads at run time: templates, locales,
static files, mail templates, migrations. `.ci/smoke_runtime.py` installs non-editable but cannot reach every
page and mail, so the build itself is compared with the source tree here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "vestibule"


def _data_files(base: Path) -> set[str]:
    return {p.relative_to(base).as_posix() for p in base.rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc", ".typed"} and "__pycache__" not in p.parts}


def test_every_data_file_of_the_source_tree_is_in_the_built_package(tmp_path: Path) -> None:
    # A copy without the editable install's *.egg-info, whose file list setuptools would otherwise follow.
    tree = tmp_path / "tree"
    (tree / "src").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tree)
    shutil.copytree(SOURCE, tree / "src" / "vestibule", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
                    "--build-lib", str(tmp_path / "lib")], cwd=tree, check=True, capture_output=True)
    source, built = _data_files(SOURCE), _data_files(tmp_path / "lib" / "vestibule")
    assert any(name.startswith("mail_templates/zh-TW/") for name in source)
    assert source - built == set(), "add these to [tool.setuptools.package-data] in pyproject.toml"
