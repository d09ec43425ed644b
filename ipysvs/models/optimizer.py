"""Adam for ``adapt()``'s few steps, without the start-up cost of ``torch.optim``.

The constructor of every ``torch.optim`` optimizer imports ``torch._dynamo`` the first time one is built in
a process (torch 2.13): 2.1 s on a 2-core CPU, which the first ``adapt()`` of every session paid on
top of its 15 steps. :class:`GroupAdam` runs the same update through torch's functional Adam
(``torch.optim.adam.adam``), which needs no such import; with the defaults it takes the steps
``torch.optim.Adam`` takes (``tests/test_optimizer.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch.optim.adam import adam

from ..errors import ParameterError

__all__ = ["BETAS", "EPS", "GroupAdam", "ParameterGroup"]

BETAS = (0.9, 0.999)
EPS = 1e-8


@dataclass
class ParameterGroup:
    """Parameters that share a learning rate, with their Adam state (moments and step counts)."""

    params: list[torch.nn.Parameter]
    lr: float
    exp_avgs: list[torch.Tensor] = field(init=False)
    exp_avg_sqs: list[torch.Tensor] = field(init=False)
    steps: list[torch.Tensor] = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.lr, bool) or not isinstance(self.lr, int | float) or not self.lr > 0:
            raise ParameterError(f"a learning rate must be a positive number, got {self.lr!r:.40}")
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.steps = [torch.zeros((), dtype=torch.float32) for _ in self.params]


class GroupAdam:
    """Adam (no weight decay, no AMSGrad, betas :data:`BETAS`, eps :data:`EPS`) over groups of
    parameters, each with its own learning rate; parameters without a gradient are left alone.

    Args:
        groups: ``(parameters, learning rate)`` pairs; empty groups are dropped.
    """

    def __init__(self, groups: Sequence[tuple[Sequence[torch.nn.Parameter], float]]) -> None:
        self.groups = [ParameterGroup(list(params), lr) for params, lr in groups if params]

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter."""
        for group in self.groups:
            for parameter in group.params:
                parameter.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step of every parameter that has a gradient."""
        for group in self.groups:
            chosen = [i for i, p in enumerate(group.params) if p.grad is not None]
            if not chosen:
                continue
            adam(
                [group.params[i] for i in chosen],
                [group.params[i].grad for i in chosen],
                [group.exp_avgs[i] for i in chosen],
                [group.exp_avg_sqs[i] for i in chosen],
                [],
                [group.steps[i] for i in chosen],
                foreach=False,
                amsgrad=False,
                beta1=BETAS[0],
                beta2=BETAS[1],
                lr=group.lr,
                weight_decay=0.0,
                eps=EPS,
                maximize=False,
            )
