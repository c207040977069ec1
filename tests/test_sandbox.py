"""The tests run in a sandbox: HOME, the XDG folders and every NEWSBOT_* folder point into one temporary
folder, so whatever newsbot writes by default (the index, the derived ONNX graphs, feeds) lands there."""

from __future__ import annotations

import os
from pathlib import Path

from bot.settings import BotSettings
from indexing.settings import IndexSettings, SettingsSource, config_file_path
from testsupport.sandbox import HOME_FOLDERS, NEWSBOT_FOLDERS, USER_SETTING_PREFIXES, snapshot, written_between


def test_every_folder_variable_points_into_the_sandbox(sandbox):
    for name in (*HOME_FOLDERS, *NEWSBOT_FOLDERS):
        assert sandbox.holds(os.environ[name]), (name, os.environ[name])
    assert sandbox.holds(Path.home())
    leftover = [n for n in os.environ if n.startswith(USER_SETTING_PREFIXES) and n not in NEWSBOT_FOLDERS]
    assert not leftover, f"the user's settings reach the tests: {leftover}"


def test_default_folders_land_in_the_sandbox_whatever_the_settings_source(sandbox):
    from_environment = BotSettings.from_env()
    # A source with a hand-made environment (as most tests build) falls back to the per-user folders.
    from_scratch = BotSettings.from_env(SettingsSource(env={}))
    for settings in (from_environment, from_scratch):
        for folder in (settings.index.data_dir, settings.index.cache_dir, settings.feeds_folder):
            assert sandbox.holds(folder), folder
    assert sandbox.holds(config_file_path()) and sandbox.holds(config_file_path({}))


def test_the_derived_embedding_graph_is_written_inside(sandbox, seed_index):
    # The seed index exports the ONNX graph into the cache of a settings source that names none.
    settings: IndexSettings = seed_index.settings
    assert settings.backend == "onnx" and sandbox.holds(settings.cache_dir)
    assert list((settings.cache_dir / "embedding").glob("*.onnx"))


def test_a_write_outside_is_seen(tmp_path):
    folder = tmp_path / "newsbot"
    folder.mkdir()
    (folder / "kept").write_text("x")
    before = snapshot([folder])
    (folder / "graph.onnx").write_bytes(b"\0")
    assert written_between(before, snapshot([folder])) == [str(folder / "graph.onnx")]
