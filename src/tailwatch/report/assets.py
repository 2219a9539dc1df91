"""Front-end assets inlined into offline reports: Leaflet, topojson-client and a world basemap.

They come from npm (``web/package.json`` + ``web/package-lock.json``), are copied into the
package by ``./run.sh setup`` (``python -m tailwatch.report.assets web/node_modules DEST``)
and are read from the package at run time. No CDN, no tile server: the map's base layer
is Natural Earth country outlines from the ``world-atlas`` package.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from tailwatch.errors import TailwatchError

#: file in the package's assets folder -> path inside node_modules
FILES: dict[str, str] = {
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
    "countries-50m.json": "world-atlas/countries-50m.json",
    "LICENSE.leaflet": "leaflet/LICENSE",
    "LICENSE.world-atlas": "world-atlas/LICENSE",
    "LICENSE.topojson-client": "topojson-client/LICENSE",
}

ASSETS_DIR = Path(__file__).with_name("assets")


@dataclass(frozen=True)
class Assets:
    """The texts a report inlines."""

    leaflet_js: str
    leaflet_css: str
    topojson_js: str
    countries_topojson: str


def load_assets(folder: Path = ASSETS_DIR) -> Assets:
    """Read the copied npm assets, or say how to get them.

    Raises :class:`~tailwatch.errors.TailwatchError` when they are missing.
    """
    missing = [name for name in FILES if not (folder / name).exists()]
    if missing:
        raise TailwatchError(
            f"report assets missing in {folder} ({', '.join(missing)}): run `./run.sh setup` "
            "(npm ci in web/ and copy) to install them"
        )

    def read(name: str) -> str:
        return (folder / name).read_text(encoding="utf-8")

    return Assets(
        leaflet_js=read("leaflet.js"),
        leaflet_css=read("leaflet.css"),
        topojson_js=read("topojson-client.min.js"),
        countries_topojson=read("countries-50m.json"),
    )


def copy_assets(node_modules: Path, dest: Path = ASSETS_DIR) -> list[Path]:
    """Copy the files listed in :data:`FILES` from ``node_modules`` into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rel in FILES.items():
        src = node_modules / rel
        if not src.exists():
            raise TailwatchError(f"{src} not found: run `npm ci` in web/ first")
        shutil.copyfile(src, dest / name)
        written.append(dest / name)
    (dest / ".built").write_text("copied from " + str(node_modules) + "\n", encoding="utf-8")
    return written


if __name__ == "__main__":  # pragma: no cover - used by run.sh
    args = sys.argv[1:]
    if len(args) not in (1, 2):
        sys.exit("usage: python -m tailwatch.report.assets NODE_MODULES [DEST]")
    out = copy_assets(Path(args[0]), Path(args[1]) if len(args) == 2 else ASSETS_DIR)
    print(f"copied {len(out)} report assets")
