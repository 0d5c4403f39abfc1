"""An installed copy of the project runs without a checkout: `pip install .` gives a package
that serves the replica and evaluates itself, with its site profile and labelled set inside.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO



def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in REPO.glob("pipeline/**/__init__.py")}
    on_disk |= {".".join(p.parent.relative_to(REPO).parts) for p in REPO.glob("mfa_airflow/**/__init__.py")}
    on_disk |= {".".join(p.parent.relative_to(REPO).parts) for p in REPO.glob("mfa_replica/**/__init__.py")}
    assert on_disk <= listed, f"packages missing from pyproject.toml: {sorted(on_disk - listed)}"


def test_every_pin_installs_on_the_oldest_python_the_project_claims():
    """Before: the lock pinned soupsieve 4.1.2, which needs Python 3.11.5, while pyproject (and
    bootstrap.sh) take any 3.11: on Debian 12's Python 3.11.2 the first command of the README
    stopped at pip. Each pin's own Requires-Python (in the metadata this venv installed from
    the lock) must admit the oldest version pyproject claims."""
    import importlib.metadata

    from packaging.specifiers import SpecifierSet

    claimed = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    oldest = re.fullmatch(r">=\s*(\d+\.\d+(?:\.\d+)?)", claimed.strip()).group(1)
    oldest = oldest if oldest.count(".") == 2 else oldest + ".0"
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (REPO / "requirements" / "lock.txt").read_text(), flags=re.M)
    assert len(pins) > 50
    refusing = []
    for name, version in pins:
        meta = importlib.metadata.distribution(name).metadata
        assert meta["Version"] == version, f"{name}: {meta['Version']} installed, {version} pinned"
        needs = meta.get("Requires-Python")
        if needs and not SpecifierSet(needs).contains(oldest):
            refusing.append(f"{name}=={version} (Requires-Python {needs})")
    assert not refusing, f"pins that do not install on Python {oldest}: {refusing}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """The project built as a wheel and installed (without its dependencies, which the venv has)
    into a folder of its own; the commands run from a folder outside the checkout."""
    root = tmp_path_factory.mktemp("installed")
    wheels, site = root / "wheels", root / "site"
    # Built from a copy of the checkout's files (tracked and new, not ignored): setuptools writes
    # build/ inside its source folder, which other test processes may be walking at the time.
    source = root / "source"
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                            str(source)], check=False, capture_output=True, timeout=300)
    assert built.returncode == 0, built.stderr.decode()[-3000:]
    (wheel,) = wheels.glob("mfa_ingest-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MFA_")}
    env["PYTHONPATH"] = str(site)  # ahead of the venv's editable install of the checkout
    work = root / "work"
    work.mkdir()
    return work, env


def run_cli(installed, *args: str, **kwargs) -> subprocess.CompletedProcess:
    work, env = installed
    code = "import sys; from pipeline.cli import main; sys.argv[0] = 'mfa-ingest'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=work, env=env, capture_output=True, text=True,
                          **kwargs)


def test_the_installed_copy_is_not_the_checkout(installed):
    work, env = installed
    done = subprocess.run([sys.executable, "-c", "import pipeline, pipeline.settings as s; "
                           "print(pipeline.__file__); print(s.Settings().site_profile_path)"],
                          cwd=work, env=env, capture_output=True, text=True, check=True)
    module, profile = done.stdout.split()
    assert str(REPO) not in module and str(REPO) not in profile
    assert Path(profile).is_file()


def test_the_installed_copy_evaluates_itself(installed):
    done = run_cli(installed, "eval", "--json", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert len(report["cases"]) >= 12
    ours = report["total"]["ours"]
    assert ours["paragraphs_total"] > 0 and ours["paragraphs_kept"] == ours["paragraphs_total"]


def test_the_installed_copy_serves_the_replica(installed):
    """The command keeps serving after it printed how to use it (it once crashed right after
    its first lines, on a missing import, while a page fetched at once still came back)."""
    work, env = installed
    code = "import sys; from pipeline.cli import main; sys.argv[0] = 'mfa-ingest'; main()"
    proc = subprocess.Popen([sys.executable, "-u", "-c", code, "replica"], cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        printed = []
        while not printed or "MFA_CRAWL_ALLOWED_PRIVATE_HOSTS" not in printed[-1]:
            line = proc.stdout.readline()
            assert line, "".join(printed) + proc.stderr.read()  # the command ended before saying all
            printed.append(line)
        time.sleep(0.5)
        assert proc.poll() is None, "".join(printed) + proc.stderr.read()
        base, archive = re.findall(r"(http://127\.0\.0\.1:\d+)", "".join(printed))[:2]
        with urllib.request.urlopen(base + "/en/press_service/minister_speeches/", timeout=10) as resp:
            assert resp.status == 200 and b"<html" in resp.read().lower()
        with urllib.request.urlopen(base + "/robots.txt", timeout=10) as resp:
            assert b"Disallow" in resp.read()
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
