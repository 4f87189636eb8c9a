"""Production refuses settings that would break it across nodes, saying which to set."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import create_app
from portal.config import ConfigurationError, Settings, require_secret_key_in_production


@pytest.mark.parametrize("key", ["", "   "])
def test_production_without_a_secret_key_is_refused(tmp_path: Path, key: str):
    settings = Settings(env="production", secret_key=key, instance_path=str(tmp_path))
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY is not set"):
        create_app(settings=settings)
    assert not (tmp_path / "secret_key").exists()  # no key of this node's own was made


def test_a_secret_key_or_another_environment_is_accepted(tmp_path: Path):
    require_secret_key_in_production(Settings(env="production", secret_key="shared-key"))
    require_secret_key_in_production(Settings(env="development", secret_key=""))
