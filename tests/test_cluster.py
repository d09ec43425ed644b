"""Scale-out on Dask (``ipysvs.cluster``): the batch commands' tasks on a local cluster of two worker
processes give the results they give here, report a failing song and go on, and lose or duplicate
nothing when a worker is killed mid-run."""

from __future__ import annotations

import csv
import os
import signal
import threading
import time

import numpy as np
import pytest
import soundfile

from ipysvs import cluster
from ipysvs.batch import separate_files
from ipysvs.cli import main
from ipysvs.errors import IpysvsError, ParameterError
from ipysvs.research.datasets import group_songs, read_clips
from ipysvs.research.experiments import read_rows, simulate_tracks

pytestmark = pytest.mark.skipif(
    not cluster.dask_available(), reason='Dask is not installed (pip install -e ".[dask]")'
)

SIMULATION = {"ratios": (0, 100), "variants": ("svs", "f0-svs"), "steps": 2}


@pytest.fixture(scope="module")
def client():
    """A local cluster of two single-threaded worker processes, for the module."""
    with cluster.connect(workers=2) as client:
        yield client


def test_without_workers_or_scheduler_the_tasks_run_here() -> None:
    with cluster.connect() as client:
        assert client is None
    results, failures = [], []

    def task(value: int) -> int:
        if value == 2:
            raise ParameterError("two is bad")
        return value * 10

    cluster.run_tasks(
        task,
        [1, 2, 3],
        client=None,
        on_result=lambda i, r: results.append((i, r)),
        on_failure=failures.append,
        progress=False,
    )
    assert results == [(1, 10), (3, 30)]
    assert failures == [cluster.Failure("2", "two is bad")]


def test_a_client_that_is_not_one_is_refused_before_any_work() -> None:
    ran = []
    with pytest.raises(ParameterError, match=r"client must be a distributed\.Client or None, got str"):
        cluster.run_tasks(
            ran.append, [1], client="tcp://host:8786", on_result=print, on_failure=print, progress=False
        )
    assert ran == []


def test_connect_rejects_bad_requests_in_words() -> None:
    with pytest.raises(ParameterError, match="not both"), cluster.connect(2, "tcp://127.0.0.1:8786"):
        pass
    with pytest.raises(ParameterError, match="at least 1"), cluster.connect(0):
        pass
    unreachable = cluster.connect(scheduler="tcp://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(ParameterError, match="cannot reach the Dask scheduler"), unreachable:
        pass


def test_workers_run_single_threaded_with_the_models_loaded(client) -> None:
    def state() -> tuple[int, int, int]:
        import torch

        from ipysvs.models.joint import default_joint_model
        from ipysvs.separation import default_separator

        return (
            torch.get_num_threads(),
            default_separator.cache_info().currsize,
            default_joint_model.cache_info().currsize,
        )

    states = client.run(state)
    assert len(states) == 2
    assert set(states.values()) == {(1, 1, 1)}


def test_local_workers_keep_glibcs_dynamic_mmap_threshold(client) -> None:
    # Dask's nanny would set MALLOC_TRIM_THRESHOLD_ (30-40 % slower separation); the local cluster unsets it
    environments = client.run(
        lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"))
    )
    assert set(environments.values()) == {(None, "1")}


@pytest.mark.slow
def test_separating_on_the_cluster_writes_what_separating_here_writes(client, song, tmp_path) -> None:
    inputs = []
    for name, seconds in (("first", 8.0), ("second", 5.0)):
        path = tmp_path / f"{name}.wav"
        soundfile.write(str(path), song.mixture[:, : int(seconds * song.sr)].T, song.sr)
        inputs.append(path)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    inputs.insert(1, broken)
    here, there = tmp_path / "here", tmp_path / "there"
    reports: dict[str, list[str]] = {"here": [], "there": []}
    for where, out, use in (("here", here, None), ("there", there, client)):
        failed = separate_files(inputs, out, show_progress=False, report=reports[where].append, client=use)
        assert failed == [str(broken)]
    assert len(reports["there"]) == 1 and "broken.wav" in reports["there"][0]
    for name in ("first", "second"):
        for stem in ("vocals", "accompaniment"):
            ours, _ = soundfile.read(str(here / name / f"{stem}.wav"))
            theirs, _ = soundfile.read(str(there / name / f"{stem}.wav"))
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(theirs, ours, atol=1e-4)
        assert (here / name / "beats.csv").read_text() == (there / name / "beats.csv").read_text()
        f0_here = np.loadtxt(here / name / "f0.csv", delimiter=",", skiprows=1)
        f0_there = np.loadtxt(there / name / "f0.csv", delimiter=",", skiprows=1)
        np.testing.assert_allclose(f0_there[:, :2], f0_here[:, :2], atol=0.5)  # Hz, at the same frames
    assert not (there / "broken").exists()


def _rows(path) -> dict[tuple[str, str, int], dict[str, float]]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    keyed = {(r["name"], r["variant"], int(r["ratio"])): r for r in rows}
    assert len(keyed) == len(rows), "a row was written twice"
    return keyed


@pytest.mark.slow
def test_simulating_on_the_cluster_gives_the_rows_of_simulating_here(client, tiny_mir1k, tmp_path) -> None:
    songs = group_songs(read_clips(tiny_mir1k))
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    for out, use in ((here, None), (there, client)):
        assert simulate_tracks(songs, out, client=use, progress=False, report=print, **SIMULATION) == []
    ours, theirs = _rows(here), _rows(there)
    assert (
        set(ours)
        == set(theirs)
        == {
            (song.name, variant, ratio)
            for song in songs
            for variant in ("svs", "f0-svs")
            for ratio in (0, 100)
        }
    )
    for key, row in ours.items():
        for column in ("vocal_sdr", "acc_sdr", "f0_rpa_uncorrected", "f0_oa_uncorrected", "corrected_s"):
            assert float(theirs[key][column]) == pytest.approx(float(row[column]), abs=1e-3, nan_ok=True)
    # resumable: a second run on the cluster has nothing left to do and adds no row
    assert simulate_tracks(songs, there, client=client, progress=False, report=print, **SIMULATION) == []
    assert len(read_rows(there)) == len(ours)


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_and_duplicates_no_row(client, tiny_mir1k, tmp_path) -> None:
    clips = read_clips(tiny_mir1k)  # three tracks, one per clip
    out = tmp_path / "killed.csv"
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                time.sleep(1.0)  # well inside its task
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    failed = simulate_tracks(clips, out, client=client, progress=False, report=print, **SIMULATION)
    killer.join()
    assert killed, "no worker was busy to kill"
    assert failed == []
    rows = _rows(out)
    assert set(rows) == {(c.name, v, r) for c in clips for v in ("svs", "f0-svs") for r in (0, 100)}
    client.wait_for_workers(2, timeout=60)  # the nanny started a new worker in its place


@pytest.mark.slow
def test_the_commands_take_workers(tiny_mir1k, tmp_path, capsys) -> None:
    out = tmp_path / "evaluation.csv"
    assert main(["evaluate", str(tiny_mir1k), "--out", str(out), "--quiet", "--workers", "2"]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows if r["system"] == "ipysvs"] == ["amy_1_01", "amy_1_02", "leon_1_01"]
    assert all(not r["skipped"] for r in rows)
    assert "per-clip scores" in capsys.readouterr().out


def test_the_commands_say_what_is_missing_without_dask(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(cluster, "dask_available", lambda: False)
    status = main(["separate", "--demo", "--out", str(tmp_path), "--workers", "2"])
    assert status == 2
    assert 'pip install -e ".[dask]"' in capsys.readouterr().err
    with pytest.raises(IpysvsError, match="Dask is not installed"):
        cluster.require_dask()
