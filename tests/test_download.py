"""Downloads against a local HTTP server on 127.0.0.1 that serves the real dataset copies."""

import functools
import http.server
import pathlib
import threading
import zipfile

import pytest

from hrnnvae.data import download as download_lib
from hrnnvae.data import prepare as prepare_lib


@pytest.fixture
def serve(tmp_path):
  """serve(folder) -> base URL of a loopback server over that folder; stopped after the test."""
  servers = []

  def start(folder: pathlib.Path) -> str:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return f"http://127.0.0.1:{server.server_address[1]}"

  yield start
  for server in servers:
    server.shutdown()
    server.server_close()


def test_jsb_download_is_checked_and_preparable(serve, datasets_root, tmp_path):
  base_url = serve(datasets_root / "jsb_chorales")
  assert download_lib.download("jsb_chorales", tmp_path / "jsb", base_url) == 1
  manifest = prepare_lib.prepare(prepare_lib.make_source("jsb_chorales", str(tmp_path / "jsb")),
                                 str(tmp_path / "cache"), progress=False, log=lambda _: None)
  assert manifest["split_sizes"]["pieces"] == {"train": 229, "valid": 76, "test": 77}


def test_jsb_download_with_wrong_bytes_is_refused(serve, tmp_path):
  mirror = tmp_path / "mirror"
  mirror.mkdir()
  (mirror / "Jsb16thSeparated.json").write_text('{"train": [], "valid": [], "test": []}')
  with pytest.raises(download_lib.DownloadError, match="sha256"):
    download_lib.download("jsb_chorales", tmp_path / "jsb", serve(mirror))
  assert not (tmp_path / "jsb" / "Jsb16thSeparated.json").exists()


def test_nottingham_archive_download(serve, datasets_root, tmp_path):
  # The canonical archive is GitHub's zip of the pinned commit: one top folder, the repo inside.
  mirror = tmp_path / "mirror"
  mirror.mkdir()
  name = download_lib.SOURCES["nottingham"][1]
  top = "nottingham-dataset-" + name.removesuffix(".zip")
  root = datasets_root / "nottingham"
  with zipfile.ZipFile(mirror / name, "w") as archive:
    for path in sorted((root / "MIDI").rglob("*.mid")) + sorted(root.glob("ABC_cleaned/*.abc")):
      archive.write(path, f"{top}/{path.relative_to(root)}")
    archive.writestr(f"{top}/../escape.txt", "a path that leaves the target folder")
  out = tmp_path / "nottingham"
  written = download_lib.download("nottingham", out, serve(mirror))
  assert written == 3089 + 14
  assert not (tmp_path / "escape.txt").exists()
  source = prepare_lib.make_source("nottingham", str(out), limit=50)
  manifest = prepare_lib.prepare(source, str(tmp_path / "cache"), progress=False,
                                 log=lambda _: None)
  assert manifest["files"]["used"] == 50


def test_unreachable_mirror_names_the_fix(tmp_path):
  with pytest.raises(download_lib.DownloadError, match="--base_url"):
    download_lib.download("jsb_chorales", tmp_path, "http://127.0.0.1:9")
