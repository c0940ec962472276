"""Small helpers shared by the servers: free ports, and a missing program under CI or not."""

from __future__ import annotations

import glob
import os
import shutil
import socket
from typing import NoReturn

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def missing(reason: str) -> NoReturn:
    """Skip the test loudly with `reason`; under CI (env CI set) fail it instead."""
    if under_ci():
        pytest.fail(f"{reason}; CI must install it", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


def libfaketime_required() -> str:
    """The path of Debian's libfaketime (package `faketime`), to preload into a process whose
    clock must run ahead; missing: skipped loudly, or failed under CI."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        missing("libfaketime is not installed here (Debian package `faketime`)")
    return found[0]


def program_required(name: str, *, package: str) -> str:
    """The path of program `name`; without it the test is skipped, loudly, with the reason —
    except under CI (env CI set), which installs it: there a missing one is a failure."""
    path = shutil.which(name)
    if path:
        return path
    missing(f"`{name}` is not installed here (Debian package `{package}`)")
