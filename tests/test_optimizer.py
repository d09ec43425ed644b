"""GroupAdam: the steps of torch.optim.Adam, per group learning rates, without importing torch._dynamo."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ipysvs.errors import ParameterError
from ipysvs.models.optimizer import GroupAdam

Parameters = list[torch.nn.Parameter]


def quadratic_problem(seed: int) -> tuple[Parameters, Parameters, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    target = torch.randn(5, 3, generator=generator)
    first = [torch.nn.Parameter(torch.randn(5, 3, generator=generator))]
    second = [torch.nn.Parameter(torch.randn(4, generator=generator)), torch.nn.Parameter(torch.zeros(2))]
    return first, second, target


def loss_of(
    first: list[torch.nn.Parameter], second: list[torch.nn.Parameter], target: torch.Tensor
) -> torch.Tensor:
    # the last parameter gets no gradient: both optimizers must leave it alone
    return ((first[0] - target) ** 2).sum() + (second[0] ** 3).sum()


def test_group_adam_takes_the_steps_of_torch_adam() -> None:
    ours_first, ours_second, target = quadratic_problem(0)
    ref_first, ref_second, _ = quadratic_problem(0)
    ours = GroupAdam([(ours_first, 1e-2), (ours_second, 3e-3), ([], 1.0)])
    reference = torch.optim.Adam([{"params": ref_first, "lr": 1e-2}, {"params": ref_second[:1], "lr": 3e-3}])
    for _ in range(20):
        for optimizer, (first, second) in (
            (ours, (ours_first, ours_second)),
            (reference, (ref_first, ref_second)),
        ):
            optimizer.zero_grad()
            loss_of(first, second, target).backward()
            optimizer.step()
    moved = (ours_first[0] - quadratic_problem(0)[0][0]).abs().max()
    assert moved > 0.1  # the steps did something
    torch.testing.assert_close(ours_first[0], ref_first[0], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(ours_second[0], ref_second[0], rtol=1e-6, atol=1e-7)
    assert torch.equal(ours_second[1], torch.zeros(2))
    assert len(ours.groups) == 2 and ours_first[0].grad is not None
    ours.zero_grad()
    assert ours_first[0].grad is None


@pytest.mark.parametrize("rate", [0, -1e-3, float("nan"), "0.1", True])
def test_group_adam_rejects_a_bad_learning_rate(rate: object) -> None:
    with pytest.raises(ParameterError, match="learning rate"):
        GroupAdam([([torch.nn.Parameter(torch.zeros(1))], rate)])  # type: ignore[list-item]


def test_adapt_imports_neither_torch_dynamo_nor_sympy() -> None:
    # each costs about a second the first time a process adapts
    code = (
        "import sys, ipysvs\n"
        "from ipysvs.demo import demo_song\n"
        "song = demo_song(seconds=6.0, seed=3)\n"
        "session = ipysvs.open(song.mixture, song.sr, journal=False)\n"
        "inside = session.frame_times < 2.0\n"
        "session.draw(session.frame_times[inside], session.f0.hz[inside] * 1.01)\n"
        "report = session.adapt(steps=2)\n"
        "print(report.steps, 'torch._dynamo' in sys.modules, 'sympy' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.split()[-3:] == ["2", "False", "False"]
