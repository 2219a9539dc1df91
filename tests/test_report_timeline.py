"""The dossier's timeline shows its last date whole.

Found looking at the 5U-MBH dossier in headless chromium (1400 px wide): the last axis label
read "2023-0" — it started 30 px left of the axis end and ran past the SVG's right edge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tailwatch.report.dossier import assemble
from tailwatch.report.html import write_dossier
from test_report import _chromium, spar19  # noqa: F401  (fixture)


def test_axis_labels_inside_the_timeline(spar19: dict, tmp_path: Path) -> None:  # noqa: F811
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = _chromium()
    d = assemble("SPAR19", [spar19["icao"]], spar19["annotation"], spar19["positions"], spar19["legs"],
                 spar19["stops"], spar19["findings"])
    html = write_dossier(d, tmp_path)["html"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(html.as_uri())
        page.wait_for_function("document.querySelector('#timeline svg') !== null")
        boxes = page.evaluate("""() => {
            const svg = document.querySelector('#timeline svg');
            const w = svg.viewBox.baseVal.width;
            return [w, Array.from(svg.querySelectorAll('text')).map(t => {
                const b = t.getBBox(); return [t.textContent, b.x, b.x + b.width]; })];
        }""")
        browser.close()
    width, labels = boxes
    dates = [lab for lab in labels if lab[0][:1].isdigit()]
    assert len(dates) == 7
    assert all(left >= 0 and right <= width for _, left, right in labels), labels
