"""The key that pseudonymises people for analysts: configured, or generated once and kept."""

from __future__ import annotations

import stat
from pathlib import Path

from infra.secrets import analytics_key
from infra.settings import Settings
from projections.pseudonyms import Pseudonyms


def test_the_analytics_key_comes_from_its_variable(tmp_path: Path) -> None:
    settings = Settings.from_env({"JOURNEYS_ANALYTICS_KEY": "k3y",
                                  "JOURNEYS_VAR_DIR": str(tmp_path)})

    assert settings.analytics_key == "k3y"
    assert analytics_key(settings) == b"k3y"
    assert list(tmp_path.iterdir()) == []
    assert Settings.from_env({"JOURNEYS_ANALYTICS_KEY": " "}).analytics_key is None


def test_an_unset_analytics_key_is_generated_once_kept_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")

    first, second = analytics_key(settings), analytics_key(settings)

    kept = tmp_path / "var" / "analytics_key"
    assert first == second and len(first) >= 64
    assert kept.read_text().strip().encode() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_a_person_keeps_one_pseudonym_per_key() -> None:
    pseudonym, other_key = Pseudonyms(b"one key"), Pseudonyms(b"another key")

    assert pseudonym("mentor-amara") == "631c0c25e62438485fc83b9a9107f683"  # HMAC-SHA256
    assert pseudonym("mentor-amara") == pseudonym("mentor-amara")
    assert pseudonym("mentor-amara") != pseudonym("mentee-sofia")
    assert pseudonym("mentor-amara") != other_key("mentor-amara")
