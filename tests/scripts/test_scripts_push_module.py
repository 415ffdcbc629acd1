"""push_module: validate, then one file per request with meta.json first; skip unchanged
files; refuse anything outside the module folder."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oembed_server.hubspot.source_code_api import SourceCode
from oembed_server.package_data import CMS_MODULES_DIR
from oembed_server.usecases.module_push import (
    ModuleFolderError,
    ModuleValidationError,
    PushRecord,
    collect_module_files,
    push_module,
)
from tests.hubspot_emulator.testing import assert_no_secrets, make_client, run_script, script_env

FILES = {
    "meta.json": json.dumps({"label": "Media embed", "host_template_types": ["PAGE"], "icon": "x"}),
    "fields.json": json.dumps([{"name": "media", "type": "embed", "supported_source_types": ["media_bridge"]}]),
    "module.html": "{# Media #}<div class=\"media-embed\">{{ module.media.oembed_response.html }}</div>",
    "module.css": ".media-embed { max-width: 100%; }",
}


@pytest.fixture
def modules(tmp_path) -> Path:
    folder = tmp_path / "modules" / "media_embed.module"
    folder.mkdir(parents=True)
    for name, content in FILES.items():
        (folder / name).write_text(content)
    (folder / ".DS_Store").write_text("junk")
    return tmp_path / "modules"


def push_env(emulator, sqlite_url, tmp_path, **extra):
    return script_env(emulator, sqlite_url, HUBSPOT_PUSH_RECORD=str(tmp_path / "record.json"), **extra)


def puts(emulator):
    return [r.path for r in emulator.state.requests if r.method == "PUT"]


def test_script_validates_then_uploads_meta_first_and_skips_unchanged(emulator, modules, sqlite_url, tmp_path):
    env = push_env(emulator, sqlite_url, tmp_path)
    first = run_script("push_module", "--source-dir", str(modules), env=env)
    assert first.returncode == 0, first.stderr
    base = "/cms/v3/source-code/draft/content/media-bridge/media_embed.module"
    assert puts(emulator) == [f"{base}/meta.json", f"{base}/fields.json", f"{base}/module.css", f"{base}/module.html"]
    assert emulator.state.count("POST", "/validate/") == 4
    first_put = next(i for i, r in enumerate(emulator.state.requests) if r.method == "PUT")
    assert all("/validate/" in r.path for r in emulator.state.requests[first_put - 4:first_put])
    stored = emulator.state.source_files[("draft", "media-bridge/media_embed.module/module.html")]["content"]
    assert stored.decode() == FILES["module.html"]

    second = run_script("push_module", "--source-dir", str(modules), env=env)
    assert "Nothing to change" in second.stdout and len(puts(emulator)) == 4
    assert emulator.state.count("POST", "/validate/") == 4

    (modules / "media_embed.module" / "module.css").write_text(".media-embed { width: 100%; }")
    third = run_script("push_module", "--source-dir", str(modules), "--environment", "draft", env=env)
    assert third.returncode == 0 and len(puts(emulator)) == 5 and puts(emulator)[-1].endswith("module.css")
    assert_no_secrets(first.stdout + first.stderr + second.stdout + third.stdout, emulator)


def test_dry_run_sends_nothing(emulator, modules, sqlite_url, tmp_path):
    result = run_script("push_module", "--source-dir", str(modules), "--dry-run", "--environment", "published",
                        env=push_env(emulator, sqlite_url, tmp_path))
    assert result.returncode == 0, result.stderr
    assert emulator.state.requests == []
    assert "PUT" in result.stdout and "published/content/media-bridge/media_embed.module/meta.json" in result.stdout
    assert "A first push of this module would send" in result.stdout and "without these objects" not in result.stdout


def test_without_a_hash_the_local_record_decides(emulator, modules, tmp_path):
    emulator.state.metadata_includes_hash = False
    source = SourceCode(make_client(emulator))
    files = collect_module_files(modules, "media_embed", "media-bridge")
    record = PushRecord(tmp_path / "record.json")
    assert len(push_module(source, files, "draft", record, 777).uploaded) == 4
    assert not push_module(source, files, "draft", PushRecord(tmp_path / "record.json"), 777).changed
    # Someone edits the file in the design manager: its updatedAt moves, so we push again.
    source.upload("draft", "media-bridge/media_embed.module/module.css", b"/* edited */")
    again = push_module(source, files, "draft", record, 777)
    assert again.uploaded == ["media-bridge/media_embed.module/module.css"]
    # Another portal has its own record.
    assert len(push_module(source, files, "draft", record, 778).uploaded) == 4


def test_a_file_hubspot_refuses_means_nothing_is_uploaded(emulator, modules, sqlite_url, tmp_path):
    (modules / "media_embed.module" / "fields.json").write_text("{broken")
    result = run_script("push_module", "--source-dir", str(modules), env=push_env(emulator, sqlite_url, tmp_path))
    assert result.returncode == 1
    assert "fields.json" in result.stderr and "nothing uploaded" in result.stderr
    assert puts(emulator) == []


def test_paths_outside_the_module_folder_are_refused(modules, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("not for HubSpot")
    link = modules / "media_embed.module" / "notes.txt"
    os.symlink(outside, link)
    with pytest.raises(ModuleFolderError, match="outside the module folder"):
        collect_module_files(modules, "media_embed", "media-bridge")
    link.unlink()
    os.symlink(tmp_path, modules / "media_embed.module" / "assets")
    with pytest.raises(ModuleFolderError, match="symlinked folders"):
        collect_module_files(modules, "media_embed", "media-bridge")
    for module, dest in (("../media_embed", "media-bridge"), ("media_embed", "../elsewhere"),
                         ("media_embed", "a/./b")):
        with pytest.raises(ModuleFolderError):
            collect_module_files(modules, module, dest)


def test_incomplete_module_is_refused(modules):
    (modules / "media_embed.module" / "fields.json").unlink()
    with pytest.raises(ModuleFolderError, match="lacks fields.json"):
        collect_module_files(modules, "media_embed", "media-bridge")
    with pytest.raises(ModuleFolderError, match="not a module folder"):
        collect_module_files(modules, "missing", "media-bridge")


def test_validation_errors_other_than_400_propagate(emulator, modules):
    emulator.state.fail_next(500, method="POST", path="/validate/")
    source = SourceCode(make_client(emulator, []))
    with pytest.raises(Exception) as caught:
        push_module(source, collect_module_files(modules, "media_embed", "x"), "draft", None, 777)
    assert not isinstance(caught.value, ModuleValidationError) and "500" in str(caught.value)


@pytest.mark.skipif(not (CMS_MODULES_DIR / "media_embed.module" / "meta.json").exists(),
                    reason="the real module (cms_module/media_embed.module) is not in the tree yet")
def test_the_real_module_passes_validation_and_pushes(emulator, tmp_path):
    files = collect_module_files(CMS_MODULES_DIR, "media_embed", "media-bridge")
    report = push_module(SourceCode(make_client(emulator)), files, "draft", PushRecord(tmp_path / "r.json"), 777)
    assert report.uploaded[0].endswith("/meta.json") and len(report.uploaded) == len(files)


def test_a_destination_with_spaces_is_quoted_once(emulator, modules):
    files = collect_module_files(modules, "media_embed", "/my modules/")
    assert files[0].remote_path == "my modules/media_embed.module/meta.json"
    push_module(SourceCode(make_client(emulator)), files, "draft", None, 777)
    assert ("draft", "my modules/media_embed.module/meta.json") in emulator.state.source_files
