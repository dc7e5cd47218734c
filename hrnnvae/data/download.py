"""Downloads Nottingham and JSB Chorales from their canonical repositories, pinned to a commit.

`base_url` can point at a mirror (or a local server in the tests): the same relative file
names are fetched from it.
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import shutil
import tempfile
import urllib.request
import zipfile

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
TIMEOUT_S = 60


# dataset -> (base URL, file name, kind, sha256 or None). GitHub's archive zips are not
# byte-stable, so only plain files are pinned by checksum; the zip is pinned by commit.
SOURCES = {
    "nottingham": (
        "https://github.com/jukedeck/nottingham-dataset/archive",
        "0992bb6cd864f6d4b90d6663e08c0ef53ffaa08f.zip", "zip", None),
    "jsb_chorales": (
        "https://raw.githubusercontent.com/czhuang/JSB-Chorales-dataset/"
        "9a7f733ddb4ed91f48da64ac7f0f621c34aadd4d",
        "Jsb16thSeparated.json", "file",
        "79294cc374f9252e95ef4b703161524c1c53dc1f712c236f00f1c1f5d54af5a7"),
}


class DownloadError(Exception):
  """A download that failed or gave unexpected bytes; the message says what to do."""


def _fetch(url: str) -> bytes:
  try:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - fixed URLs
      data = response.read(MAX_DOWNLOAD_BYTES + 1)
  except OSError as error:
    raise DownloadError(f"could not download {url} ({error}); check the network or pass "
                        "--base_url=MIRROR, or fetch the files by hand and pass --source") from error
  if len(data) > MAX_DOWNLOAD_BYTES:
    raise DownloadError(f"{url} is larger than {MAX_DOWNLOAD_BYTES} bytes; refusing it")
  return data


def _extract_zip(data: bytes, out_dir: pathlib.Path) -> int:
  """Extracts an archive with one top folder into out_dir; refuses paths that escape it."""
  try:
    archive = zipfile.ZipFile(io.BytesIO(data))
    members = [m for m in archive.infolist() if not m.is_dir()]
    if sum(m.file_size for m in members) > MAX_DOWNLOAD_BYTES:
      raise DownloadError("the archive unpacks to more than the size limit; refusing it")
    count = 0
    for member in members:
      parts = pathlib.PurePosixPath(member.filename).parts[1:]  # drop "<repo>-<commit>/"
      if not parts or any(p in ("..", "") for p in parts) or member.filename.startswith("/"):
        continue
      target = out_dir.joinpath(*parts)
      target.parent.mkdir(parents=True, exist_ok=True)
      with archive.open(member) as source, open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
      count += 1
    return count
  except zipfile.BadZipFile as error:
    raise DownloadError(f"the downloaded archive is not a valid zip ({error})") from error


def download(dataset: str, out_dir: str | os.PathLike, base_url: str | None = None) -> int:
  """Fetches `dataset` into out_dir (ready for `prepare --source=out_dir`); returns files written."""
  if dataset not in SOURCES:
    raise DownloadError(f"nothing to download for {dataset!r}: only {', '.join(SOURCES)}")
  default_base, name, kind, sha256 = SOURCES[dataset]
  url = f"{(base_url or default_base).rstrip('/')}/{name}"
  data = _fetch(url)
  if sha256 and hashlib.sha256(data).hexdigest() != sha256:
    raise DownloadError(f"{url} has unexpected contents (sha256 mismatch); refusing it")
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  if kind == "zip":
    return _extract_zip(data, out_dir)
  with tempfile.NamedTemporaryFile(dir=out_dir, delete=False) as tmp:
    tmp.write(data)
  os.replace(tmp.name, out_dir / name)
  return 1
