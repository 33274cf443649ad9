"""The ansible-core version matrix of `make test` (stage `matrix` of scripts/test.sh): nox sessions.

Units run on every ansible-core the collection claims (meta/runtime.yml: 2.17 to 2.21; 2.16, end of life,
lacks the ignore_unknown_opts that the wait action plugins hand the resume state with), each on a Python
that ansible-core supports as a controller; 2.19, the pinned development set (requirements-dev.txt, Python
3.11), is left to the other stages. An integration smoke (one target against the bundled simulator) runs on
the oldest and the newest; sanity on the newest (the `sanity` stage runs the pinned one; the oldest's sanity
rules are a subset of the newer ones, and its Python is covered by its units and integration sessions, so it
is left out to keep the whole suite under 30 minutes). The oldest sessions also install the oldest requests
and urllib3 that requirements.txt allows.

Each session has its own virtual environment (nox) and its own copy of the collection
(scripts/layout.py), under $AIQUM_BUILD/nox (default build/nox). Run one with
`nox -f noxfile.py -s "units-2.17"`; `nox -f noxfile.py -l` lists them.

antsibull-nox is not used: its sanity and units sessions always pass --docker to ansible-test (there is no
Docker engine here), and it installs ansible-core from GitHub archives unless told otherwise (only the package
index is reachable). These plain sessions run ansible-test with --local/--python and packages from the index.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
BUILD = Path(os.environ.get("AIQUM_BUILD", ROOT / "build"))
sys.path.insert(0, str(ROOT / "scripts"))
import layout  # noqa: E402  pylint: disable=wrong-import-position

nox.options.default_venv_backend = "venv"
nox.options.envdir = str(BUILD / "nox" / "venvs")
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

# ansible-core minor -> the controller Python its sessions use (each is one ansible-core supports).
MATRIX = {"2.17": "3.10", "2.18": "3.13", "2.19": "3.11", "2.20": "3.12", "2.21": "3.13"}
OLDEST, NEWEST = sorted(MATRIX, key=lambda v: tuple(map(int, v.split("."))))[::len(MATRIX) - 1]
PINNED = "2.19"  # requirements-dev.txt: the other stages of `make test` run it
# What the units need besides ansible-core (the same pins as requirements-dev.txt).
UNIT_DEPS = ["pytest==9.2.0", "pytest-mock==3.17.0", "pytest-xdist==3.8.0", "mock==5.2.0", "trustme==1.2.1"]
CLIENT_DEPS = {"oldest": ["requests==2.30.0", "urllib3==2.2.0"], "pinned": ["requests==2.34.2", "urllib3==2.8.0"]}
INTEGRATION_TARGET = "um_request"


def interpreter(version: str) -> str:
    """pythonX.Y from PATH when it runs; else a pyenv installation of it (pyenv shims need a global setting)."""
    name = f"python{version}"
    found = shutil.which(name)
    if found and subprocess.run([found, "-c", ""], capture_output=True, check=False).returncode == 0:
        return found
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(f"{root}/versions/{version}.*/bin/{name}"))
    return candidates[-1] if candidates else name


def install(session: nox.Session, core: str) -> None:
    client = CLIENT_DEPS["oldest" if core == OLDEST else "pinned"]
    session.install(f"ansible-core~={core}.0", *client, *UNIT_DEPS)
    session.run("python", "-c", "import ansible, requests, urllib3; "
                "print('ansible-core', ansible.__version__, 'requests', requests.__version__, 'urllib3', urllib3.__version__)")


def collection(session: nox.Session) -> Path:
    """A copy of the collection for this session, with its own git index (ansible-test lists files by git)."""
    coll = layout.lay_collection(BUILD / "nox" / "collections" / session.name, git_index=True)
    # ansible-test's sanity venvs bootstrap pip with a script from a host this network cannot reach.
    session.run("bash", str(ROOT / "scripts" / "ansible-test-offline-pip.sh"), external=True, silent=True,
                env={"PYTHON_BIN": str(Path(session.bin) / "python")})
    return coll


def ansible_test(session: nox.Session, coll: Path, python: str, *args: str) -> None:
    with session.chdir(coll):
        session.run("ansible-test", *args, "--python", python, "--color", "no")


def _units(core: str, python: str) -> None:
    @nox.session(name=f"units-{core}", python=interpreter(python))
    def units(session: nox.Session) -> None:
        install(session, core)
        ansible_test(session, collection(session), python, "units")


def _sanity(core: str, python: str) -> None:
    @nox.session(name=f"sanity-{core}", python=interpreter(python))
    def sanity(session: nox.Session) -> None:
        install(session, core)
        ansible_test(session, collection(session), python, "sanity")


def _integration(core: str, python: str) -> None:
    @nox.session(name=f"integration-{core}", python=interpreter(python))
    def integration(session: nox.Session) -> None:
        install(session, core)
        session.install("aiohttp==3.14.5")  # the simulator
        coll = collection(session)
        sim = BUILD / "nox" / "umsim" / session.name
        shutil.rmtree(sim, ignore_errors=True)
        ready = sim / "ready.json"
        session.run("python", str(ROOT / "scripts" / "simctl.py"), "start", "--state-dir", str(sim / "state"),
                    "--ready-file", str(ready), "--integration-config",
                    str(coll / "tests" / "integration" / "integration_config.yml"), silent=True)
        try:
            ansible_test(session, coll, python, "integration", "--local", INTEGRATION_TARGET)
        finally:
            session.run("python", str(ROOT / "scripts" / "simctl.py"), "stop", "--ready-file", str(ready))


for _core, _python in MATRIX.items():
    if _core != PINNED:  # the `units` stage runs the pinned one
        _units(_core, _python)
    if _core == NEWEST:
        _sanity(_core, _python)
    if _core in (OLDEST, NEWEST):
        _integration(_core, _python)
