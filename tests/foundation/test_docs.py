"""The README's configuration table lists every PORTAL_* variable the settings read."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from portal.config import PROJECT_ROOT, Settings


def documented(path: Path) -> set[str]:
    return set(re.findall(r"^\| `(PORTAL_[A-Z0-9_]+)` \|", path.read_text(), re.MULTILINE))


def test_every_setting_is_in_the_readme_and_operations_guide():
    variables = {f"PORTAL_{f.name.upper()}" for f in fields(Settings) if f.name != "extra"}
    for doc in (PROJECT_ROOT / "README.md", PROJECT_ROOT / "docs" / "operations.md"):
        listed = documented(doc)
        assert variables - listed == set(), f"{doc.name} misses {sorted(variables - listed)}"
        assert listed - variables == set(), f"{doc.name} lists unknown {sorted(listed - variables)}"


def test_settings_read_their_environment_variables():
    settings = Settings.from_environ(
        {
            "PORTAL_COUNCIL_NAME": "Elmstead",
            "PORTAL_TRUSTED_PROXIES": "2",
            "PORTAL_JOBS_IMMEDIATE": "yes",
        }
    )
    assert (settings.council_name, settings.trusted_proxies, settings.jobs_immediate) == (
        "Elmstead",
        2,
        True,
    )
    assert Settings.from_environ({}).council_name == "Castlebrook Council"


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = Settings(instance_path=str(tmp_path)).flask_config()["SECRET_KEY"]
    second = Settings(instance_path=str(tmp_path)).flask_config()["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
