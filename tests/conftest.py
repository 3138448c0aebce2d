"""Shared fixtures: the real m3e-small model and a real index of the bundled seed corpus, built once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def write_config(folder: Path, **sections: dict) -> Path:
    """Write a config.yaml in `folder` whose corpus and index live there too; extra sections override."""
    data = {"corpus": {"dir": "corpus"}, "index": {"dir": "index"}, "telegram": {"data_dir": "data"}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Derived model files (the ONNX export) go to a temporary folder, not the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("model-cache")
    os.environ["NEWSQA_CACHE_DIR"] = str(folder)  # inherited by the `python -m bot` subprocesses too
    return folder


@pytest.fixture
def make_config(tmp_path: Path):
    """Factory: a fresh project folder with a copy of the seed corpus (or none) and its config file."""

    def make(seed: bool = True, **sections: dict) -> Path:
        corpus = tmp_path / "corpus"
        if seed:
            shutil.copytree(SEEDS, corpus, dirs_exist_ok=True)
        else:
            corpus.mkdir(exist_ok=True)
        return write_config(tmp_path, **sections)

    return make


@pytest.fixture(scope="session")
def seed_config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with the seed corpus and a built index, shared by read-only tests."""
    from bot.service import rebuild

    folder = tmp_path_factory.mktemp("seed-project")
    shutil.copytree(SEEDS, folder / "corpus")
    path = write_config(folder)
    rebuild(load_config(path), progress=False)
    return path


@pytest.fixture(scope="session")
def seed_config(seed_config_path: Path) -> Config:
    """The loaded config of the shared seed project (do not write to its index)."""
    return load_config(seed_config_path)


@pytest.fixture(scope="session")
def service(seed_config: Config):
    """A QAService over the shared seed index with the real model."""
    from bot.service import QAService

    return QAService.open(seed_config, auto_build=False, progress=False)
