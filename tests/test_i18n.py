"""Every visible string is translated: the Spanish catalogue has no hole and is compiled."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import atiende

PACKAGE = Path(atiende.__file__).resolve().parent
CATALOGUE = PACKAGE / "locale" / "es" / "LC_MESSAGES" / "django.po"


def _key(entry: polib._BaseEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def _value(entry: polib._BaseEntry) -> str | tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
    return str(entry.msgstr)


def test_the_spanish_catalogue_translates_every_entry() -> None:
    catalogue = polib.pofile(str(CATALOGUE))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"untranslated in es: {missing}"
    assert not fuzzy, f"fuzzy (unchecked) in es: {fuzzy}"


def test_the_compiled_catalogue_matches_its_source() -> None:
    source = {_key(e): _value(e) for e in polib.pofile(str(CATALOGUE)).translated_entries()}
    compiled = {
        _key(e): _value(e) for e in polib.mofile(str(CATALOGUE.with_suffix(".mo"))) if e.msgid
    }
    assert compiled == source, "run `make messages` to compile the catalogue"


@pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="GNU gettext (xgettext) is not installed: cannot extract strings",
)
def test_no_string_in_the_code_is_missing_from_the_catalogue(tmp_path: Path) -> None:
    """Extract the strings afresh into a copy and compare with the committed catalogue."""
    copy = tmp_path / "atiende"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "es",
            "--no-obsolete",
            "--ignore",
            "static/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={
            "DJANGO_SETTINGS_MODULE": "atiende.settings",
            "PATH": "/usr/bin:/bin",
            "ATIENDE_DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "x",
            "PYTHONPATH": str(PACKAGE.parent),
        },
    )
    extracted = polib.pofile(str(copy / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    committed = {_key(e) for e in polib.pofile(str(CATALOGUE)).translated_entries()}
    new = sorted(str(e.msgid) for e in extracted if _key(e) not in committed)
    assert not new, f"strings missing from the Spanish catalogue (run `make messages`): {new}"
