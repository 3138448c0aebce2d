"""config.yaml is read with defaults, and every mistake gets a one-line message naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.errors import ConfigError
from tests.conftest import ROOT


def test_bundled_config_loads_with_every_section():
    config = load_config(ROOT / "config.yaml")
    assert config.embedding.model == "m3e-small"
    assert config.retrieval.mode == "hybrid" and config.retrieval.top_k == 3
    assert config.telegram.token_env == "TELEGRAM_BOT_TOKEN"
    assert config.corpus.dir == ROOT / "corpus" and config.index.dir == ROOT / "index"


def test_relative_folders_resolve_against_the_config_file(tmp_path: Path):
    (tmp_path / "c.yaml").write_text("corpus:\n  dir: articles\nindex:\n  dir: /abs/idx\n")
    config = load_config(tmp_path / "c.yaml")
    assert config.corpus.dir == tmp_path / "articles"
    assert config.index.dir == Path("/abs/idx")


def test_defaults_when_no_file_is_given(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(None).retrieval == Config().retrieval


@pytest.mark.parametrize(
    "text, message",
    [
        ("retrieval:\n  modee: bm25\n", "unknown config key 'retrieval.modee'"),
        ("colour: red\n", "unknown config key 'colour'"),
        ("retrieval:\n  top_k: three\n", "'retrieval.top_k' must be an integer"),
        ("retrieval:\n  mode: fuzzy\n", "'retrieval.mode' must be one of bm25, dense, hybrid"),
        ("telegram:\n  admins: 5\n", "'telegram.admins' must be a list"),
        ("retrieval: 3\n", "'retrieval' must be a section"),
        ("retrieval: [\n", "not valid YAML at line"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_config_is_reported_on_one_line(tmp_path: Path, text: str, message: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_config_names_the_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found: .*nope.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_integer_is_accepted_for_a_number(tmp_path: Path):
    (tmp_path / "c.yaml").write_text("answer:\n  min_dense: 1\n")
    assert load_config(tmp_path / "c.yaml").answer.min_dense == 1.0
