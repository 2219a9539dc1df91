"""``tailwatch db update``: fetch the public aircraft databases, verify them, record versions.

Downloads (only here, only when the user asks):

* plane-alert-db (``sdr-enthusiasts/plane-alert-db``, raw files of branch ``main``);
* VRS standing data (``vradarserver/standing-data``, GitHub archive of ``main``);
* the dump1090-fa aircraft db (``flightaware/dump1090``, archive of ``master``, ``public_html/db``);
* Mictronics operators/types (``Mictronics/readsb-protobuf``, raw files of branch ``dev``).

Everything lands in a staging folder beside the target, is parsed and checked, then
replaces the old folder in one rename, with ``manifest.json`` listing for each
database its URL, sha256, size, HTTP ETag/Last-Modified and the time fetched. Base URLs
can be overridden (``base_urls`` or ``$TAILWATCH_DB_MIRROR``), e.g. for a mirror or a test
server. ``--from DIR`` installs the same layout from a local folder, checking each file
against ``DIR/MANIFEST.tsv`` (path, bytes, sha256) when that file exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tailwatch.errors import InputError, NoDatabaseError, TailwatchError
from tailwatch.identity import loaders as L

#: progress(label, done_bytes, total_bytes or None)
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class Remote:
    """One public database: raw ``files`` under a base URL, or ``members`` of a .tar.gz archive."""

    name: str
    url: str  # base folder URL (files) or archive URL
    files: tuple[tuple[str, str], ...] = ()  # (remote name, local path)
    members: tuple[tuple[str, str], ...] = ()  # (path inside the archive's top folder, local path)


REMOTES: tuple[Remote, ...] = (
    Remote("plane-alert-db", "https://raw.githubusercontent.com/sdr-enthusiasts/plane-alert-db/main",
           files=(("plane-alert-db.csv", L.PAD_CSV),
                  ("plane-alert-categories.csv", "plane_alert_db/plane-alert-categories.csv"),
                  ("LICENSE", "plane_alert_db/LICENSE"))),
    Remote("vrs-standing-data", "https://github.com/vradarserver/standing-data/archive/refs/heads/main.tar.gz",
           members=tuple((p, f"vrs_standing_data/{p}") for p in (
               "aircraft/schema-01", "code-blocks/schema-01", "registration-prefixes/schema-01",
               "countries/schema-01", "model-type/schema-01", "airlines/schema-01", "LICENSE"))),
    Remote("dump1090-fa", "https://github.com/flightaware/dump1090/archive/refs/heads/master.tar.gz",
           members=(("public_html/db", L.FA_DIR), ("LICENSE", f"{L.FA_DIR}/LICENSE"),
                    ("COPYING", f"{L.FA_DIR}/COPYING"))),
    Remote("mictronics", "https://raw.githubusercontent.com/Mictronics/readsb-protobuf/dev/webapp/src/db",
           files=(("operators.json", L.MIC_OPERATORS), ("types.json", L.MIC_TYPES),
                  ("dbversion.json", "mictronics_readsb_db/dbversion.json"))),
)

#: Local paths copied by ``--from`` (same layout as ``../shared/data``).
LAYOUT = tuple(local for r in REMOTES for _, local in (*r.files, *r.members))


def _url_for(remote: Remote, base_urls: Mapping[str, str] | None) -> str:
    if base_urls and remote.name in base_urls:
        return base_urls[remote.name].rstrip("/")
    mirror = os.environ.get("TAILWATCH_DB_MIRROR")
    if mirror:
        tail = remote.url.rsplit("/", 1)[-1] if remote.members else ""
        return f"{mirror.rstrip('/')}/{remote.name}" + (f"/{tail}" if tail else "")
    return remote.url


def download(url: str, dest: Path, label: str, progress: Progress | None = None,
             timeout: float = 60.0) -> dict[str, object]:
    """Stream ``url`` to ``dest``; returns url, sha256, bytes, etag, last_modified."""
    req = urllib.request.Request(url, headers={"User-Agent": "tailwatch-db-update"})
    h = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, dest.open("wb") as out:
            total = resp.headers.get("Content-Length")
            total_n = int(total) if total and total.isdigit() else None
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if progress:
                    progress(label, done, total_n)
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
    except OSError as exc:  # URLError, HTTPError, timeouts are OSErrors
        raise TailwatchError(f"cannot download {url}: {exc}") from None
    return {"url": url, "sha256": h.hexdigest(), "bytes": done, "etag": etag, "last_modified": modified}


def _extract(archive: Path, members: tuple[tuple[str, str], ...], stage: Path) -> int:
    """Copy ``members`` (paths under the archive's single top folder) into ``stage``."""
    n = 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for m in tar.getmembers():
                if not (m.isfile() and "/" in m.name):
                    continue
                inner = m.name.split("/", 1)[1]
                for src, local in members:
                    if inner == src or inner.startswith(src + "/"):
                        rel = local + inner[len(src):]
                        target = (stage / rel).resolve()
                        if stage.resolve() not in target.parents:
                            raise InputError(str(archive), m.name, "member escapes the target folder")
                        target.parent.mkdir(parents=True, exist_ok=True)
                        fh = tar.extractfile(m)
                        if fh is None:
                            continue
                        with fh, target.open("wb") as out:
                            shutil.copyfileobj(fh, out)
                        n += 1
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(str(archive), "archive", f"not a readable .tar.gz: {exc}") from None
    return n


def _verify(stage: Path) -> dict[str, int]:
    """Parse the staged databases; rows per aircraft database. Raises if none has rows."""
    log = L.LoadLog()
    counts = {}
    for name, loader in (("plane-alert-db", L.load_plane_alert), ("vrs-standing-data", L.load_vrs_aircraft),
                         ("dump1090-fa", L.load_fa)):
        t = loader(stage, log)
        counts[name] = 0 if t is None else t.num_rows
    if not any(counts.values()):
        raise NoDatabaseError(f"no aircraft rows could be loaded from {stage}: "
                              + "; ".join(str(s) for s in log.rejects.samples[:3]))
    return counts


def _install(stage: Path, target: Path, facts: dict[str, object]) -> dict[str, object]:
    """Check the staged databases, write their manifest (``facts`` plus when and how many
    rows) and put them in place of ``target``; the manifest is returned."""
    manifest: dict[str, object] = {"fetched_at": datetime.now(UTC).isoformat(timespec="seconds"), **facts,
                                   "rows": _verify(stage)}
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2))
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    stage.rename(target)
    if old.exists():
        shutil.rmtree(old)
    return manifest


def _stage(target: Path) -> Path:
    if target.exists() and (not target.is_dir() or (any(target.iterdir())
                                                    and not (target / "manifest.json").is_file())):
        raise TailwatchError(f"refusing to replace {target}: it is not a folder installed by "
                             f"`tailwatch db update` (no manifest.json); choose an empty or new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=target.name + ".new-", dir=target.parent))


@contextmanager
def _staged(target: Path) -> Iterator[Path]:
    """A fresh folder beside ``target`` to fill; removed again if filling it fails."""
    stage = _stage(target)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def update_from_network(target: Path, base_urls: Mapping[str, str] | None = None,
                        progress: Progress | None = None) -> dict[str, object]:
    """Download every database into ``target`` (replacing it only when all went well)."""
    with _staged(target) as stage:
        sources: dict[str, object] = {}
        for remote in REMOTES:
            url = _url_for(remote, base_urls)
            if remote.files:
                files = {}
                for name, local in remote.files:
                    dest = stage / local
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    files[local] = download(f"{url}/{name}", dest, f"{remote.name}: {name}", progress)
                sources[remote.name] = {"base_url": url, "files": files}
            else:
                with tempfile.TemporaryDirectory(dir=stage.parent) as tmp:
                    archive = Path(tmp) / "archive.tar.gz"
                    info = download(url, archive, remote.name, progress)
                    info["files"] = _extract(archive, remote.members, stage)
                sources[remote.name] = info
        return _install(stage, target, {"from": "network", "sources": sources})


def _copy_sha256(src: Path, dest: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dest``, reading it once; its sha256 and size."""
    h = hashlib.sha256()
    size = 0
    with src.open("rb") as fi, dest.open("wb") as fo:
        while chunk := fi.read(1 << 20):
            h.update(chunk)
            fo.write(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _manifest_tsv(folder: Path) -> dict[str, tuple[int, str]]:
    path = folder / "MANIFEST.tsv"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].isdigit():
            out[parts[0]] = (int(parts[1]), parts[2])
    return out


def update_from_folder(source: Path, target: Path, progress: Progress | None = None) -> dict[str, object]:
    """Install the databases of a local folder with the same layout, verifying each file."""
    if not source.is_dir():
        raise NoDatabaseError(f"{source} is not a folder")
    expected = _manifest_tsv(source)
    files = []
    for local in LAYOUT:
        p = source / local
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            files.extend(sorted(q for q in p.rglob("*") if q.is_file()))
    if not files:
        raise NoDatabaseError(f"{source} holds none of the expected databases ({', '.join(LAYOUT[:3])}, ...)")
    total = sum(p.stat().st_size for p in files)
    with _staged(target) as stage:
        done = 0
        digest = hashlib.sha256()
        checked = 0
        for p in files:
            rel = p.relative_to(source).as_posix()
            dest = stage / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            sha, size = _copy_sha256(p, dest)  # a mismatch below discards the whole stage
            if rel in expected:
                want_size, want = expected[rel]
                if sha != want or size != want_size:
                    raise InputError(str(p), "whole file", f"sha256 {sha[:12]}... does not match MANIFEST.tsv "
                                                           f"({want[:12]}...)")
                checked += 1
            digest.update(f"{rel}\0{sha}\n".encode())
            done += size
            if progress:
                progress("copy", done, total)
        return _install(stage, target, {"from": str(source.resolve()), "files": len(files), "bytes": total,
                                        "sha256_of_files": digest.hexdigest(),
                                        "checked_against_manifest_tsv": checked})
