"""Watch lists in YAML and CSV: reading, writing, bad entries named by file and place."""

from __future__ import annotations

from pathlib import Path

import pytest

from tailwatch.errors import InputError
from tailwatch.identity import watchlist as wl


def test_csv_list(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.csv"
    path.write_text("hex,registration,label,tags\n062f01,,Niger C-130,sahel;c130\n,TZ-PRM,Mali jet,\n",
                    encoding="utf-8")
    entries = wl.read_watchlist(path)
    assert entries == [wl.WatchEntry("062F01", None, "Niger C-130", ("sahel", "c130")),
                       wl.WatchEntry(None, "TZ-PRM", "Mali jet", ())]


def test_bad_entries_name_file_and_place(tmp_path: Path) -> None:
    csv_path = tmp_path / "w.csv"
    csv_path.write_text("hex,registration,label,tags\n062F01,,ok,\n06ZZ01,,bad hex,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        wl.read_watchlist(csv_path)
    assert err.value.path == str(csv_path) and err.value.location == "line 3"
    yaml_path = tmp_path / "w.yaml"
    yaml_path.write_text("entries:\n  - hex: 062F01\n  - label: neither hex nor registration\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        wl.read_watchlist(yaml_path)
    assert err.value.location == "entry 2" and "hex or a registration" in err.value.reason


def test_add_replace_remove_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "watchlist.yaml"
    wl.add_entry(path, wl.WatchEntry("062F01", None, "first", ("a",)))
    wl.add_entry(path, wl.WatchEntry(None, "5U-MBI", "Do 228", ()))
    wl.add_entry(path, wl.WatchEntry("062F01", None, "relabelled", ("b",)))  # same key: replaced
    assert [(e.key, e.label) for e in wl.read_watchlist(path)] == [("5UMBI", "Do 228"), ("062F01", "relabelled")]
    assert wl.remove_entry(path, "5u mbi") is True
    assert wl.remove_entry(path, "~062f01") is True
    assert wl.read_watchlist(path) == []
    assert wl.remove_entry(path, "062F01") is False
