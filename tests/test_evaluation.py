"""Tests of the MIR-1K reader, the separation metrics and ``ipysvs evaluate``."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ipysvs import cli
from ipysvs.errors import FileError, ParameterError
from ipysvs.f0 import Trajectory
from ipysvs.research.datasets import (
    VALIDATION_SINGERS,
    Labels,
    first_per_singer,
    group_songs,
    load_song,
    read_clips,
    read_labels,
    select_singers,
)
from ipysvs.research.evaluation import (
    PITCH_ERRORS,
    ClipResult,
    SeparationScores,
    SilentSourceError,
    evaluate_clips,
    format_system_table,
    gnsdr,
    ideal_ratio_mask,
    oracle_system,
    pitch_errors,
    score_mixture,
    score_separation,
    summarise,
    write_csv,
)

SR = 16_000
MIR1K = Path(__file__).parents[1].parent / "shared" / "data" / "mir1k"
# (name, singer, gender, song, clip, file extension, seconds); clip 02 is listed before 01 on purpose
TINY_CLIPS = (
    ("ann_1_02", "ann", "F", "1", "02", "flac", 1.25),
    ("ann_1_01", "ann", "F", "1", "01", "flac", 1.5),
    ("bob_2_01", "bob", "M", "2", "01", "wav", 1.1),
)
REGRESSION_CLIPS = ("leon_1_01", "stool_1_01", "yifen_1_01")
# median vocal SDR (dB) of the pretrained separator on REGRESSION_CLIPS, measured once
REGRESSION_MEDIAN_VOCAL_SDR = 12.137
REGRESSION_TOLERANCE_DB = 0.02


def noise(seed: int, n: int = 2 * SR) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def with_snr(signal: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """``signal`` plus independent white noise at exactly ``snr_db`` dB below it."""
    added = noise(seed, signal.size)
    added *= np.sqrt(np.sum(signal**2) / np.sum(added**2) / 10 ** (snr_db / 10))
    return signal + added


def tone(freqs: tuple[float, ...], seconds: float, seed: int) -> np.ndarray:
    """Float32 harmonic tones with a little noise, ``(round(seconds * SR),)``."""
    t = np.arange(round(seconds * SR)) / SR
    signal = sum(0.2 / k * np.sin(2 * np.pi * f * t) for k, f in enumerate(freqs, 1))
    return (signal + 0.01 * noise(seed, t.size)).astype(np.float32)


def write_tiny_dataset(folder: Path) -> Path:
    """A 3-clip MIR-1K-layout folder (flac and wav files), returned."""
    clips = folder / "clips"
    clips.mkdir(parents=True)
    with (folder / "index.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["name", "singer", "gender", "song", "clip", "duration_s"])
        for seed, (name, singer, gender, song, clip, ext, seconds) in enumerate(TINY_CLIPS):
            writer.writerow([name, singer, gender, song, clip, f"{seconds:.3f}"])
            soundfile.write(clips / f"{name}.voice.{ext}", tone((440.0, 880.0, 1320.0), seconds, seed), SR)
            soundfile.write(clips / f"{name}.acc.{ext}", tone((110.0, 165.0, 220.0), seconds, seed + 10), SR)
            times = np.arange(1, int(seconds / 0.02) + 1) * 0.02
            labels = np.column_stack([times, np.where(times > 0.5, 440.0, 0.0), times > 0.5])
            np.savetxt(
                clips / f"{name}.labels.csv",
                labels,
                fmt="%.3f",
                delimiter=",",
                header="time_s,f0_hz,vocal",
                comments="",
            )
    return folder


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_dataset(tmp_path / "tiny")


# --- metrics on signals with known answers ---------------------------------------------------------


VOICE, ACCOMPANIMENT = noise(0), noise(1)


@pytest.fixture(scope="module")
def baseline() -> SeparationScores:
    """The mixture's scores for VOICE and ACCOMPANIMENT, computed once."""
    return score_mixture(VOICE, ACCOMPANIMENT, SR, framewise=False)


def score(vocals: np.ndarray, accompaniment: np.ndarray, baseline: SeparationScores) -> SeparationScores:
    return score_separation(
        VOICE, ACCOMPANIMENT, vocals, accompaniment, SR, mixture=baseline, framewise=False
    )


@pytest.mark.parametrize("snr_db", [5.0, 10.0, 20.0])
def test_sdr_of_noisy_estimate_is_its_snr(snr_db: float, baseline: SeparationScores) -> None:
    scores = score(with_snr(VOICE, snr_db, 2), with_snr(ACCOMPANIMENT, snr_db, 3), baseline)
    # the 512-tap distortion filter absorbs a little of the noise: SDR is a hair above the SNR
    assert scores.vocals.sdr == pytest.approx(snr_db, abs=0.2)
    assert scores.accompaniment.sdr == pytest.approx(snr_db, abs=0.2)
    assert scores.vocals.sir > snr_db + 15  # the noise is mostly artefact, not interference
    assert scores.vocals.sar == pytest.approx(snr_db, abs=0.2)


def test_perfect_estimate_scores_very_high_and_swapped_estimates_very_low(baseline: SeparationScores) -> None:
    perfect = score(VOICE, ACCOMPANIMENT, baseline)
    swapped = score(ACCOMPANIMENT, VOICE, baseline)
    assert perfect.vocals.sdr > 100 and perfect.accompaniment.sdr > 100
    assert swapped.vocals.sdr < -10 and swapped.accompaniment.sdr < -10


def test_mixture_sdr_is_the_source_to_rest_power_ratio_and_its_nsdr_is_zero() -> None:
    accompaniment = 0.5 * ACCOMPANIMENT  # 6.02 dB below the voice
    mixture = score_mixture(VOICE, accompaniment, SR, framewise=False)
    assert mixture.vocals.sdr == pytest.approx(20 * np.log10(2), abs=0.2)
    assert mixture.accompaniment.sdr == pytest.approx(-20 * np.log10(2), abs=0.2)
    assert mixture.vocals.nsdr == mixture.accompaniment.nsdr == 0.0
    assert math.isnan(mixture.vocals.museval_sdr)  # framewise=False


def test_nsdr_is_sdr_minus_mixture_sdr_whether_or_not_the_baseline_is_given(
    baseline: SeparationScores,
) -> None:
    estimates = with_snr(VOICE, 8.0, 2), with_snr(ACCOMPANIMENT, 12.0, 3)
    given = score(*estimates, baseline)
    computed = score_separation(VOICE, ACCOMPANIMENT, *estimates, SR, framewise=False)
    np.testing.assert_equal(given.as_dict(), computed.as_dict())
    for source in ("vocals", "accompaniment"):
        scores, mixture = getattr(given, source), getattr(baseline, source)
        assert scores.nsdr == pytest.approx(scores.sdr - mixture.sdr)


def test_museval_columns_are_frame_medians_and_nan_for_signals_under_one_second(
    baseline: SeparationScores,
) -> None:
    estimates = with_snr(VOICE, 10.0, 2), with_snr(ACCOMPANIMENT, 10.0, 3)
    framewise = score_separation(VOICE, ACCOMPANIMENT, *estimates, SR, mixture=baseline)
    assert framewise.vocals.museval_sdr == pytest.approx(10.0, abs=1.0)
    assert framewise.accompaniment.museval_sar == pytest.approx(10.0, abs=1.0)
    short = [signal[: SR // 2] for signal in (VOICE, ACCOMPANIMENT, *estimates)]
    assert math.isnan(score_separation(*short, SR, framewise=True).vocals.museval_sdr)


def test_as_dict_flattens_sources_and_metrics(baseline: SeparationScores) -> None:
    scores = baseline.as_dict()
    assert list(scores)[:4] == ["vocals_sdr", "vocals_sir", "vocals_sar", "vocals_nsdr"]
    assert len(scores) == 14 and "accompaniment_museval_sar" in scores


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        ((noise(0), noise(1), noise(2)[:-1], noise(3)), "equal length"),
        ((noise(0), noise(1), noise(2), noise(3)[:-1]), "equal length"),
        ((noise(0)[:, None], noise(1)[:, None], noise(2)[:, None], noise(3)[:, None]), "mono"),
        ((noise(0)[:0], noise(1)[:0], noise(2)[:0], noise(3)[:0]), "empty"),
        ((noise(0), noise(1), np.full(2 * SR, np.nan), noise(3)), "NaN"),
        ((noise(0), np.full(2 * SR, np.inf), noise(2), noise(3)), "NaN or infinite"),
    ],
)
def test_invalid_signals_are_rejected_before_computing(signals: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        score_separation(*signals, SR, framewise=False)
    assert isinstance(raised.value, ParameterError)


@pytest.mark.parametrize("silent", [0, 2])
def test_silent_reference_or_estimate_raises_silent_source_error(silent: int) -> None:
    signals = [noise(0), noise(1), noise(2), noise(3)]
    signals[silent] = np.zeros(2 * SR)
    with pytest.raises(SilentSourceError, match="silent"):
        score_separation(*signals, SR, framewise=False)


# --- GNSDR and summaries ----------------------------------------------------------------------------


def test_gnsdr_weights_by_length() -> None:
    assert gnsdr([1.0, 4.0], [1.0, 3.0]) == pytest.approx(3.25)
    assert math.isnan(gnsdr([], []))
    with pytest.raises(ParameterError):
        gnsdr([1.0], [1.0, 2.0])


def result(name: str, system: str, duration: float, vocal_nsdr: float, skipped: str = "") -> ClipResult:
    metrics = (
        {}
        if skipped
        else {"vocals_sdr": vocal_nsdr + 1, "vocals_nsdr": vocal_nsdr, "accompaniment_nsdr": 0.0}
    )
    return ClipResult(name, "s", "1", system, duration, metrics, skipped)


def test_summarise_takes_medians_gnsdr_and_counts_skipped_per_system() -> None:
    results = [
        result("a", "x", 1.0, 1.0),
        result("a", "y", 1.0, 0.0, skipped="silent"),
        result("b", "x", 3.0, 4.0),
        result("c", "x", 4.0, 10.0),
        result("b", "y", 3.0, 2.0),
    ]
    x, y = summarise(results)
    assert (x.system, x.scored, x.skipped) == ("x", 3, 0)
    assert x.medians["vocals_sdr"] == 5.0
    assert x.gnsdr["vocals"] == pytest.approx((1 + 12 + 40) / 8)
    assert (y.scored, y.skipped, y.gnsdr["vocals"]) == (1, 1, 2.0)
    table = format_system_table([x, y])
    assert "tracks skipped" in table and "vocals GNSDR" in table
    assert len({len(line) for line in table.splitlines()}) == 1  # fixed width


# --- oracle -----------------------------------------------------------------------------------------


def test_ideal_ratio_mask_separates_disjoint_spectra_and_sums_to_the_mixture() -> None:
    voice, accompaniment = tone((1000.0, 2000.0), 2.0, 0), tone((110.0, 165.0), 2.0, 1)
    vocals, rest = ideal_ratio_mask(voice, accompaniment, SR)
    assert vocals.shape == rest.shape == voice.shape
    np.testing.assert_allclose(vocals + rest, voice + accompaniment, atol=1e-5)
    assert score_separation(voice, accompaniment, vocals, rest, SR, framewise=False).vocals.nsdr > 15


# --- the dataset reader -----------------------------------------------------------------------------


def test_read_clips_finds_every_file_whatever_its_extension(tiny: Path) -> None:
    clips = read_clips(tiny)
    assert [clip.name for clip in clips] == [row[0] for row in TINY_CLIPS]
    first = clips[0]
    assert (first.singer, first.gender, first.song, first.clip, first.duration_s) == (
        "ann",
        "F",
        "1",
        2,
        1.25,
    )
    assert first.voice_path == tiny / "clips" / "ann_1_02.voice.flac"
    assert clips[2].accompaniment_path.suffix == ".wav"


def test_clip_loads_voice_accompaniment_mixture_and_labels(tiny: Path) -> None:
    clip = read_clips(tiny)[2]
    track = clip.load()
    voice, sr = clip.load_voice()
    mixture, _ = clip.load_mixture()
    assert sr == track.sr == SR and voice.shape == (round(1.1 * SR),) and voice.dtype == np.float32
    np.testing.assert_array_equal(track.mixture, track.voice + track.accompaniment)
    np.testing.assert_array_equal(mixture, track.mixture)
    assert track.duration_s == pytest.approx(1.1)
    labels = clip.load_labels()
    assert labels.times[0] == pytest.approx(0.02) and labels.times.size == 55
    assert labels.f0_hz[0] == 0 and labels.f0_hz[-1] == 440 and labels.vocal.dtype == bool
    np.testing.assert_array_equal(labels.vocal, labels.f0_hz > 0)


def test_select_singers_keeps_order_and_rejects_unknown_singers(tiny: Path) -> None:
    assert [clip.name for clip in read_clips(tiny, singers=["bob"])] == ["bob_2_01"]
    with pytest.raises(ParameterError, match=r"unknown singer.*carl.*known: ann, bob"):
        select_singers(read_clips(tiny), ["ann", "carl"])
    assert VALIDATION_SINGERS == ("leon", "stool", "Ani", "yifen")


def test_first_per_singer_keeps_the_order_of_the_list(tiny: Path) -> None:
    clips = read_clips(tiny)
    assert [c.singer for c in clips].count("ann") > 1
    assert [c.name for c in first_per_singer(clips, 1)] == ["ann_1_02", "bob_2_01"]  # index order
    assert first_per_singer(clips, None) == clips and first_per_singer(clips, 0) == []


def test_songs_join_clips_in_clip_order_with_shifted_label_times(tiny: Path) -> None:
    clips = read_clips(tiny)
    songs = group_songs(clips)
    assert [(song.name, [clip.clip for clip in song.clips]) for song in songs] == [
        ("ann_1", [1, 2]),
        ("bob_2", [1]),
    ]
    track = songs[0].load()
    first, second = (clip.load() for clip in songs[0].clips)
    np.testing.assert_array_equal(track.voice, np.concatenate([first.voice, second.voice]))
    np.testing.assert_array_equal(
        track.accompaniment, np.concatenate([first.accompaniment, second.accompaniment])
    )
    offset = first.voice.size / SR
    np.testing.assert_allclose(
        track.labels.times, np.concatenate([first.labels.times, second.labels.times + offset])
    )
    assert (track.name, track.singer, track.song) == ("ann_1", "ann", "1")
    assert load_song(list(reversed(songs[0].clips))).voice.size == track.voice.size
    with pytest.raises(ParameterError, match="2 songs"):
        load_song(clips)
    with pytest.raises(ParameterError, match="at least one"):
        load_song([])


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"index\.csv: no such file"):
        read_clips(tmp_path)


def test_missing_index_column_is_named(tiny: Path) -> None:
    index = tiny / "index.csv"
    index.write_text(index.read_text().replace("duration_s", "length"))
    with pytest.raises(FileError, match=r"index\.csv: missing column\(s\) duration_s"):
        read_clips(tiny)


def test_malformed_index_value_names_the_line(tiny: Path) -> None:
    index = tiny / "index.csv"
    index.write_text(index.read_text().replace(",02,", ",two,"))
    with pytest.raises(FileError, match="line 2: clip must be a whole number"):
        read_clips(tiny)


@pytest.mark.parametrize("missing", ["ann_1_01.voice.flac", "bob_2_01.acc.wav", "ann_1_02.labels.csv"])
def test_missing_clip_file_is_named(tiny: Path, missing: str) -> None:
    (tiny / "clips" / missing).unlink()
    with pytest.raises(FileError, match=re.escape(missing.rsplit(".", 1)[0])):
        read_clips(tiny)


def test_malformed_labels_name_the_file_and_line(tiny: Path) -> None:
    path = tiny / "clips" / "bob_2_01.labels.csv"
    path.write_text("time_s,f0_hz,vocal\n0.02,0,0\n0.04,abc,1\n")
    with pytest.raises(FileError, match=r"bob_2_01\.labels\.csv line 3"):
        read_labels(path)


def test_silent_voice_is_skipped_with_the_reason(tiny: Path) -> None:
    clip = read_clips(tiny)[2]
    soundfile.write(clip.voice_path, np.zeros(round(1.1 * SR), dtype=np.float32), SR)
    results = evaluate_clips([clip], {"oracle": oracle_system}, framewise=False)
    assert [(r.system, r.metrics) for r in results] == [("mixture", {}), ("oracle", {})]
    assert all("vocals reference is silent" in r.skipped for r in results)


def test_write_csv_reports_an_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="cannot write"):
        write_csv([result("a", "x", 1.0, 1.0)], tmp_path)


# --- the evaluate command ---------------------------------------------------------------------------


def run_cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(["evaluate", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.slow
def test_evaluate_command_writes_per_clip_csv_and_prints_table(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_csv = tmp_path / "scores.csv"
    status, out, _ = run_cli(str(tiny), "--out", str(out_csv), "--oracle", "--quiet", capsys=capsys)
    assert status == 0
    with out_csv.open() as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["name"], row["system"]) for row in rows[:3]] == [
        ("ann_1_02", "mixture"),
        ("ann_1_02", "ipysvs"),
        ("ann_1_02", "oracle"),
    ]
    assert len(rows) == 9
    assert {"vocals_sdr", "vocals_nsdr", "accompaniment_sar", "vocals_museval_sdr", "skipped"} <= rows[
        0
    ].keys()
    ipysvs_rows = [row for row in rows if row["system"] == "ipysvs"]
    assert all(math.isfinite(float(row["vocals_sdr"])) and row["skipped"] == "" for row in ipysvs_rows)
    assert "vocals GNSDR" in out and "oracle" in out and str(out_csv) in out


def test_evaluate_command_selects_singers_and_limits(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_csv = tmp_path / "scores.csv"
    status, _, _ = run_cli(
        str(tiny), "--singers", "ann", "--limit", "1", "--out", str(out_csv), "--quiet", capsys=capsys
    )
    assert status == 0
    with out_csv.open() as stream:
        assert [(row["name"], row["system"]) for row in csv.DictReader(stream)] == [
            ("ann_1_02", "mixture"),
            ("ann_1_02", "ipysvs"),
        ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{missing}"], "index.csv: no such file"),
        (["{tiny}", "--singers", "carl"], "unknown singer"),
        (["{tiny}", "--limit", "0"], "argument --limit: must be at least 1, got 0"),
        (["{tiny}", "--limit", "-3"], "argument --limit: must be at least 1, got -3"),
        (["{tiny}", "--limit", "two"], "argument --limit: must be a whole number"),
    ],
)
def test_evaluate_command_reports_bad_input_on_one_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    paths = {"tiny": tiny, "missing": tmp_path / "nowhere"}
    status, out, err = run_cli(*(arg.format(**paths) for arg in argv), "--quiet", capsys=capsys)
    assert status == cli.EXIT_USAGE and out == ""
    assert err.startswith("ipysvs: error: ") and message in err and err.count("\n") == 1


def test_evaluate_command_exits_1_when_a_clip_cannot_be_scored(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    soundfile.write(tiny / "clips" / "bob_2_01.voice.wav", np.zeros(round(1.1 * SR), dtype=np.float32), SR)
    out_csv = tmp_path / "scores.csv"
    status, out, err = run_cli(str(tiny), "--singers", "bob", "--out", str(out_csv), "--quiet", capsys=capsys)
    assert status == cli.EXIT_SOME_FAILED and "tracks skipped" in out
    assert "1 of 1 clips could not be scored" in err
    with out_csv.open() as stream:
        skipped = [row for row in csv.DictReader(stream) if row["skipped"]]
    assert {row["name"] for row in skipped} == {"bob_2_01"} and skipped[0]["vocals_sdr"] == ""


# --- real singing -----------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.slow
def test_pretrained_separator_vocal_sdr_on_real_mir1k_clips_regression() -> None:
    if not (MIR1K / "index.csv").is_file():
        pytest.skip(f"MIR-1K clips not found at {MIR1K} (the shared data folder is absent)")
    from ipysvs.research.evaluation import blind_system
    from ipysvs.separation import default_separator

    clips = [clip for clip in read_clips(MIR1K) if clip.name in REGRESSION_CLIPS]
    results = evaluate_clips(clips, {"ipysvs": blind_system(default_separator().separate)}, framewise=False)
    ipysvs, mixture = (summary for summary in sorted(summarise(results), key=lambda s: s.system))
    assert ipysvs.scored == len(REGRESSION_CLIPS)
    assert ipysvs.medians["vocals_sdr"] == pytest.approx(
        REGRESSION_MEDIAN_VOCAL_SDR, abs=REGRESSION_TOLERANCE_DB
    )
    assert ipysvs.medians["vocals_nsdr"] > 5 > mixture.medians["vocals_sdr"]


def test_pitch_errors_sorts_every_voiced_label_into_one_class() -> None:
    times = np.arange(100) * 0.01
    reference = np.where((times >= 0.2) & (times < 0.8), 220.0, 0.0)
    labels = Labels(times, reference, reference > 0)
    estimate = reference.copy()
    estimate[20:30] = 0.0  # unvoiced at the phrase's start
    estimate[40:50] = 220.0 * 2 ** (70 / 1200)  # near miss
    estimate[50:56] = 440.0  # octave
    estimate[60:63] = 300.0  # far
    errors = pitch_errors(labels, Trajectory(times, estimate), edge_s=0.065)
    expected = {"correct": 31 / 60, "unvoiced": 10 / 60, "near": 10 / 60, "octave": 6 / 60, "far": 3 / 60}
    for name in PITCH_ERRORS:
        assert errors[name] == pytest.approx(expected[name])
    assert errors["at_edges"] == pytest.approx(7 / 29)  # the unvoiced frames 0.20..0.26 s
    assert errors["offset_cents"] == pytest.approx(0, abs=1e-9)  # 31 exact frames, 10 at +70 cents
    estimate[20:80] = 220.0 * 2 ** (-20 / 1200)  # a tuning bias of -20 cents everywhere
    assert pitch_errors(labels, Trajectory(times, estimate))["offset_cents"] == pytest.approx(-20)
    silent = Labels(times, np.zeros(100), np.zeros(100, dtype=bool))
    assert np.isnan(pitch_errors(silent, Trajectory(times, estimate))["correct"])


@pytest.mark.parametrize("command", ["evaluate", "simulate", "train"])
def test_research_commands_name_the_missing_extra(command, tmp_path, monkeypatch, capsys) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "museval" else real_find_spec(name, *a)
    )
    argv = {"evaluate": [str(tmp_path)], "simulate": ["--data", str(tmp_path)], "train": [str(tmp_path)]}
    assert cli.main([command, *argv[command]]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "ipysvs: error: museval not installed: the research tools need the extra 'research' "
        '(pip install -e ".[research]")'
    ]
