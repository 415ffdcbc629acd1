"""The wheel as a user installs it: built from the checkout, installed with pip (not editable)
into a fresh venv, and run from a directory outside the checkout with the venv's own
`oembed-server`: db upgrade, import-catalog, serve (pages, oEmbed, static files, both module
previews), and pushing both modules into a portal of the HubSpot emulator."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest

from oembed_server.storage import schema_version
from tests.hubspot_emulator.live import LiveEmulator
from tests.hubspot_emulator.testing import client_env
from tests.support.environment import free_port
from tests.support.serve_banner import read_serve_banner

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("media_embed", "media_email")
MODULE_FILES = {"media_embed": {"meta.json", "fields.json", "module.html", "module.css", "module.js"},
                "media_email": {"meta.json", "fields.json", "module.html"}}
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # a WebM file's first bytes


def checkout_files() -> list[str]:
    """The checkout as git sees it: tracked files and new ones not ignored (no build output,
    no node_modules, no caches)."""
    try:
        listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], capture_output=True, check=True, timeout=30).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"the wheel test lists the checkout's files with git, which failed: {exc}", pytrace=False)
    # --cached still lists a tracked file deleted in the work tree; the build would not see it.
    return sorted(p for p in listed.decode().split("\0") if p and os.path.lexists(ROOT / p))


def run(args: list[str | Path], *, cwd: Path, env: dict[str, str], timeout: float = 60) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(map(str, args))} exited {result.returncode}\n"
                                    f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}")
    return result.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: none of the tests' PYTHONPATH (which points at the
    checkout), Python or Flask tweaks, or project settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "OEMBED_", "HUBSPOT_", "FLASK_", "VIRTUAL_ENV"))}
    return env | extra


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()
        except urllib.error.URLError:
            # The server prints its URLs just before it listens.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy: a build in the checkout leaves build/ and *.egg-info there, and a
    # stale build/lib would slip files that no longer exist into the next wheel.
    source = tmp_path_factory.mktemp("wheel-source")
    for relative in checkout_files():
        target = source / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target, follow_symlinks=False)
    out = tmp_path_factory.mktemp("wheel-dist")
    # Isolated, as a user's build is: pip brings the build-system requirements (setuptools>=68).
    run([sys.executable, "-m", "build", "--wheel", "--outdir", out, source], cwd=source, env=clean_env(),
        timeout=300)
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed. It sees the system's site-packages for the
    dependencies (installing them again would need the registry and a minute), so it sees
    the editable install of this project too: pip installs beside it, and the venv's
    site-packages comes first on sys.path (test_the_venv_runs_the_installed_copy)."""
    path = tmp_path_factory.mktemp("wheel-venv") / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", path], cwd=path.parent,
        env=clean_env())
    run([sys.executable, "-m", "pip", "--python", path / "bin" / "python", "install", "--no-deps", "--no-index",
         "--ignore-installed", "--disable-pip-version-check", wheel], cwd=path.parent, env=clean_env())
    return path


@pytest.fixture
def outside(tmp_path) -> Path:
    """The user's working directory: anywhere but the checkout."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def test_the_wheel_holds_every_package_file_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if not n.startswith("media_bridge_toolkit-0.1.0.dist-info/")}
    package = {p for p in checkout_files() if p.startswith("oembed_server/") and not p.endswith(".pyc")}
    assert sorted(package - shipped) == [], "package files missing from the wheel"
    assert sorted(shipped - package) == [], "files in the wheel that are not the package's"
    # What must never be missing, named so a failure says which kind went.
    for needed in ("oembed_server/storage/migrations/alembic.ini", "oembed_server/storage/migrations/env.py",
                   "oembed_server/storage/migrations/script.py.mako",
                   "oembed_server/storage/migrations/versions/0001_baseline.py",
                   "oembed_server/sample/catalog.json", "oembed_server/web/templates/pages/index.html",
                   "oembed_server/web/static/player.js", "oembed_server/web/static/vendor/hls.js.LICENSE",
                   "oembed_server/web/static/vendor/pdfjs/LICENSE", "oembed_server/web/static/sample/video.webm",
                   "oembed_server/web/static/sample/video.en.vtt", "oembed_server/web/static/sample/audio.mp3",
                   "oembed_server/web/static/sample/document.pdf", "oembed_server/web/static/sample/image.png",
                   *(f"oembed_server/cms_module/{m}.module/{f}" for m, files in MODULE_FILES.items() for f in files)):
        assert needed in shipped
    assert not [n for n in names if n.startswith(("tests/", "scripts/")) or "node_modules" in n]
    entry_points = zipfile.ZipFile(wheel).read("media_bridge_toolkit-0.1.0.dist-info/entry_points.txt").decode()
    assert "oembed-server = oembed_server.cli.commands:main" in entry_points


PROVENANCE = """
import importlib, importlib.metadata, json, pkgutil, sys
import oembed_server, oembed_server.cli.commands, oembed_server.package_data as data
oembed_server.create_app
for info in pkgutil.walk_packages(oembed_server.__path__, "oembed_server."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
files = {name: getattr(m, "__file__", None) or list(getattr(m, "__path__", []))
         for name, m in sys.modules.items() if name == "oembed_server" or name.startswith("oembed_server.")}
dist = importlib.metadata.distribution("media-bridge-toolkit")
print(json.dumps({"modules": files, "distribution": str(dist.locate_file("")),
                  "data": [str(p) for p in (data.CMS_MODULES_DIR, data.SAMPLE_CATALOG, data.WEB_TEMPLATES_DIR,
                                            data.WEB_STATIC_DIR, data.MIGRATIONS_DIR)]}))
"""


def test_the_venv_runs_the_installed_copy(venv, outside):
    """The editable install of the checkout is visible through the system site-packages; no
    module, package file or entry point may come from it."""
    seen = json.loads(run([venv / "bin" / "python", "-c", PROVENANCE], cwd=outside, env=clean_env()))
    installed = site_packages(venv).resolve()

    def inside(path) -> bool:
        paths = path if isinstance(path, list) else [path]
        return bool(paths) and all(Path(p).resolve().is_relative_to(installed) for p in paths)

    assert len(seen["modules"]) > 50  # every module of every layer was imported
    assert {name: path for name, path in seen["modules"].items() if not inside(path)} == {}
    assert Path(seen["distribution"]).resolve() == installed
    assert all(inside(p) and Path(p).exists() for p in seen["data"]), seen["data"]


def test_installed_wheel_upgrades_imports_and_serves(venv, outside):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database = outside / "catalog.sqlite3"
    env = clean_env(OEMBED_DATABASE_URL=f"sqlite:///{database}")
    command = venv / "bin" / "oembed-server"

    head = schema_version.head_revision()
    assert f"upgraded from no schema to {head}." in run([command, "db", "upgrade"], cwd=outside, env=env)
    assert run([command, "db", "current"], cwd=outside, env=env).strip() == f"{head} (newest)"

    catalog = outside / "wheel-catalog.json"
    catalog.write_text(json.dumps([{
        "external_id": "wheel-clip", "media_type": "VIDEO", "title": "Installed from the wheel",
        "file_url": f"{base}/static/sample/video.webm", "duration_ms": 8000, "width": 640, "height": 360}]))
    imported = run([command, "import-catalog", catalog.name], cwd=outside, env=env)
    assert "Imported 1 item(s) from wheel-catalog.json: 1 added" in imported

    # --sample: a named database gets the sample media only when asked (they ship in the wheel).
    proc = subprocess.Popen([str(command), "serve", "--port", str(port), "--sample"], cwd=outside, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = read_serve_banner(proc, 30)
        assert "Sample media: 4 added" in output, output
        urls = dict(re.findall(r"^([A-Za-z ()]+):\s+(http\S+)$", output, re.M))
        assert urls["Index page"] == f"{base}/", output

        status, _, body = fetch(urls["Index page"])
        assert status == 200 and b"wheel-clip" in body and b"sample-video" in body

        status, headers, body = fetch(f"{base}/oembed?url={quote(f'{base}/media/wheel-clip', safe='')}")
        assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
        answer = json.loads(body)
        assert answer["type"] == "video" and answer["title"] == "Installed from the wheel"
        assert f'src="{base}/embed/wheel-clip"' in answer["html"]

        status, _, body = fetch(f"{base}/media/wheel-clip")
        assert status == 200 and b"application/json+oembed" in body and b"Installed from the wheel" in body

        static = site_packages(venv) / "oembed_server" / "web" / "static"
        status, _, body = fetch(f"{base}/static/player.js")
        assert status == 200 and body == (static / "player.js").read_bytes()
        status, _, body = fetch(f"{base}/static/sample/video.webm")
        assert status == 200 and body[:4] == EBML_MAGIC
        status, _, body = fetch(f"{base}/static/sample/video.en.vtt")
        assert status == 200 and body.startswith(b"WEBVTT")
        # Read from the installed static folder by path, not only served.
        status, _, body = fetch(f"{base}/media/sample-video/transcript/en")
        assert status == 200 and b"Dusk over the hills" in body
        status, _, body = fetch(f"{base}/static/vendor/pdfjs/pdf.min.mjs")
        assert status == 200 and body == (static / "vendor" / "pdfjs" / "pdf.min.mjs").read_bytes()

        assert urls["Module preview"] == f"{base}/_preview/media_embed?media=sample-video"
        status, _, page = fetch(urls["Module preview"])
        assert status == 200 and b"media-embed" in page
        # The page module's own stylesheet and script, served from the installed cms_module.
        for asset in ("module.css", "module.js"):
            href = re.search(rf'"(/_preview/media_embed/{asset})"'.encode(), page)
            assert href, f"the preview page links no {asset}"
            status, _, body = fetch(base + href.group(1).decode())
            module_dir = site_packages(venv) / "oembed_server" / "cms_module" / "media_embed.module"
            assert status == 200 and body == (module_dir / asset).read_bytes()

        assert urls["Email preview"] == f"{base}/_preview/media_email?media=sample-video"
        status, _, body = fetch(urls["Email preview"])
        assert status == 200 and b"media-email" in body
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_installed_wheel_writes_and_checks_a_hubspot_project(venv, outside):
    """The project schemas ship in the wheel: the installed command validates with them."""
    command, project = venv / "bin" / "oembed-server", outside / "hubspot-project"
    env = clean_env(OEMBED_PUBLIC_URL="https://media.example.com")
    written = run([command, "hubspot-project", "--out", project, "--force"], cwd=outside, env=env)
    assert "src/app/webhooks/webhooks-hsmeta.json" in written
    checked = run([command, "hubspot-project", "--check", project], cwd=outside, env=env)
    assert checked.strip() == "Project Example Media is valid and ready to upload"
    assert (site_packages(venv) / "oembed_server" / "project_schemas" / "app-hsmeta.schema.json").is_file()


def test_installed_wheel_pushes_both_modules_into_a_portal(venv, outside):
    """scripts/push_module.py run by the venv's python: the script is the checkout's (a
    wheel ships no scripts), the module source and the code pushing it are the installed
    package's, as its default --source-dir shows."""
    python, script = venv / "bin" / "python", ROOT / "scripts" / "push_module.py"
    installed_modules = site_packages(venv) / "oembed_server" / "cms_module"
    help_text = run([python, script, "--help"], cwd=outside, env=clean_env())
    # Click wraps the long default, breaking the path after a hyphen.
    assert f"[default:{installed_modules}]" in re.sub(r"\s+", "", help_text)

    with LiveEmulator(rate_interval_ms=200) as emulator:
        env = clean_env(**client_env(emulator))
        for module in MODULES:
            pushed = run([python, script, "--module", module], cwd=outside, env=env)
            assert f"uploaded media-bridge/{module}.module/meta.json (draft)" in pushed
        stored = emulator.state.source_files
    for module, files in MODULE_FILES.items():
        for name in files:
            remote = stored.get(("draft", f"media-bridge/{module}.module/{name}"))
            assert remote is not None, f"the portal did not receive {module}.module/{name}"
            assert remote["content"] == (installed_modules / f"{module}.module" / name).read_bytes()
    # Without HUBSPOT_PUSH_RECORD the record sits in the installed app's instance folder
    # (Flask's <prefix>/var/oembed_server-instance for a package installed in a venv).
    record = json.loads((venv / "var" / "oembed_server-instance" / "hubspot-push-record.json").read_text())
    assert len(record) == sum(len(files) for files in MODULE_FILES.values())
