"""The simulation experiment: corrections from labels, the results table, the ``simulate`` command."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import ipysvs
from ipysvs.cli import main
from ipysvs.errors import ParameterError
from ipysvs.research.datasets import Labels
from ipysvs.research.experiments import (
    SimulationRow,
    format_condition_table,
    give_true_f0,
    mark_true_activity,
    median_table,
    parse_ratios,
    parse_variants,
)


@pytest.fixture()
def session(song, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    return ipysvs.open(song.mixture, song.sr, journal=False)


def labels_of(song) -> Labels:
    times = np.arange(0.02, song.seconds, 0.02)
    hz = np.interp(times, song.f0_times, song.f0_hz)
    voiced = np.interp(times, song.f0_times, (song.f0_hz > 0).astype(float)) >= 0.5
    return Labels(times, np.where(voiced, hz, 0.0), voiced)


def test_true_f0_corrects_exactly_the_first_part(session, song) -> None:
    labels = labels_of(song)
    give_true_f0(session, labels, 3.0)
    first = session.frame_times < 3.0
    assert session.corrected[first].all() and not session.corrected[~first].any()
    wanted = np.interp(session.frame_times[first], labels.times, labels.f0_hz)
    voiced = session.f0.hz[first] > 0
    # voiced frames follow the labels (within 1 cent where both neighbours are voiced)
    cents = 1200 * np.abs(np.log2(session.f0.hz[first][voiced] / wanted[voiced]))
    assert np.median(cents) < 1


def test_true_activity_marks_runs_up_to_the_cut(session, song) -> None:
    labels = labels_of(song)
    mark_true_activity(session, labels, 4.0)
    marks = session.activity
    inside = session.frame_times < 3.9
    expected = np.where(
        np.interp(session.frame_times, labels.times, labels.vocal.astype(float)) >= 0.5, 1, -1
    )
    agree = marks[inside] == expected[inside]
    assert agree.mean() > 0.95  # run boundaries may move by one frame
    assert (marks[session.frame_times >= 4.0] == 0).all()


def test_parsers_reject_bad_values() -> None:
    assert parse_ratios("50,0,50") == (0, 50)
    assert parse_variants("svs, f0-svs") == ("svs", "f0-svs")
    with pytest.raises(ParameterError, match=r"0\.\.100"):
        parse_ratios("0,150")
    with pytest.raises(ParameterError, match="whole percentages"):
        parse_ratios("half")
    with pytest.raises(ParameterError, match="unknown variant"):
        parse_variants("svs,magic")


def row(name: str, variant: str, ratio: int, sdr: float, rpa: float = 0.8) -> SimulationRow:
    return SimulationRow(name, variant, ratio, sdr, sdr + 1, rpa, rpa, 0.0, 0.0, 0)


def test_median_table_gains_are_per_song_changes_over_zero() -> None:
    rows = [
        row("a", "f0-svs", 0, 10.0),
        row("b", "f0-svs", 0, 4.0),
        row("c", "f0-svs", 0, 7.0),
        row("a", "f0-svs", 50, 11.0),
        row("b", "f0-svs", 50, 7.0),
        row("c", "f0-svs", 50, 7.5),
        row("a", "svs", 50, 9.0, rpa=math.nan),
        row("b", "svs", 50, 5.0, rpa=0.7),
        row("c", "svs", 50, 6.0, rpa=0.9),
        row("a", "svs", 0, 9.0),
        row("b", "svs", 0, 5.0),
        row("c", "svs", 0, 6.0),
    ]
    table = {(s.variant, s.ratio): s for s in median_table(rows)}
    assert table[("f0-svs", 50)].vocal_sdr == 7.5
    assert table[("f0-svs", 50)].vocal_gain == 1.0  # median of +1, +3, +0.5
    assert table[("f0-svs", 0)].vocal_gain == 0.0
    assert table[("svs", 50)].vocal_gain == 0.0 and table[("svs", 50)].f0_rpa_uncorrected == 0.8
    assert table[("f0-svs", 50)].rpa_gain == pytest.approx(0.0)  # median of NaN (a), +0.1 (b), -0.1 (c)
    assert table[("f0-svs", 0)].rpa_gain == 0.0 and math.isnan(table[("svs", 50)].rpa_gain)
    assert table[("f0-svs", 50)].anchor_gain == 2.0  # median of +2 (a), +2 (b), +1.5 (c) over svs at 0 %
    assert "RPA gain" in format_condition_table(list(table.values()))
    assert [s.variant for s in median_table(rows)][:2] == ["f0-svs", "f0-svs"]


@pytest.mark.shared
@pytest.mark.slow
def test_simulate_command_writes_rows_table_and_plot(mir1k_dir, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "results.csv"
    argv = ["simulate", "--data", str(mir1k_dir), "--unit", "clip", "--singers", "Ani", "--limit", "1"]
    argv += ["--ratios", "0,100", "--variants", "svs,f0-svs", "--steps", "2", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {"name", "variant", "ratio", "vocal_sdr", "acc_sdr", "f0_rpa_uncorrected"} <= set(rows[0])
    assert sorted((r["variant"], r["ratio"]) for r in rows) == [
        ("f0-svs", "0"),
        ("f0-svs", "100"),
        ("svs", "0"),
        ("svs", "100"),
    ]
    by = {(r["variant"], r["ratio"]): r for r in rows}
    assert by[("svs", "0")]["vocal_sdr"] == by[("svs", "100")]["vocal_sdr"]  # the anchor never adapts
    assert float(by[("svs", "0")]["vocal_sdr"]) > 3
    assert math.isnan(float(by[("f0-svs", "100")]["f0_rpa_uncorrected"]))  # nothing left uncorrected
    assert float(by[("f0-svs", "100")]["adapt_s"]) > 0
    assert "f0-svs" in capsys.readouterr().out
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(argv) == 0  # a second run resumes: nothing to add
    with out.open() as handle:
        assert len(list(csv.DictReader(handle))) == 4


def test_simulate_command_reports_bad_ratios_in_one_line(tmp_path, capsys) -> None:
    assert main(["simulate", "--data", str(tmp_path), "--ratios", "0,200"]) == 2
    assert "ratios must lie in 0..100" in capsys.readouterr().err
