"""Running a CLI process under which file permissions apply, also when the tests run as root.

Root reads a file without read permission (CAP_DAC_OVERRIDE), so a permission test run as root proves
nothing. :func:`unprivileged` returns what to run a child with so that permissions bind it: nothing
for a normal user; for root, a ``preexec_fn`` that drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
from the capability bounding set before ``exec`` (root keeps owning its files, so the venv and the
repository stay readable). Where that is not possible (no CAP_SETPCAP, capabilities inherited anyway)
the test is skipped, after a probe shows it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

PR_CAPBSET_DROP = 24
CAPS = (1, 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


def _drop_dac() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in CAPS:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(97)


@functools.cache
def _probe() -> str | None:
    """None when a child run with :func:`_drop_dac` is refused a mode-000 file, else why not."""
    with tempfile.TemporaryDirectory() as tmp:
        locked = Path(tmp) / "locked"
        locked.write_text("x")
        locked.chmod(0)
        try:
            result = subprocess.run(
                [sys.executable, "-c", f"open({str(locked)!r}).read()"],
                preexec_fn=_drop_dac,
                capture_output=True,
                text=True,
                timeout=60,
            )
        except OSError as exc:
            return f"cannot start a process without CAP_DAC_OVERRIDE ({exc})"
    if result.returncode == 97:
        return "cannot drop CAP_DAC_OVERRIDE (no CAP_SETPCAP)"
    if "PermissionError" not in result.stderr:
        return "file permissions do not bind root here even without CAP_DAC_OVERRIDE"
    return None


def unprivileged() -> dict:
    """``subprocess.run`` keyword arguments under which file permissions bind (skips the test if none)."""
    if os.geteuid() != 0:
        return {}
    why = _probe()
    if why:
        pytest.skip(f"running as root and {why}")
    return {"preexec_fn": _drop_dac}
