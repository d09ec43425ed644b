"""The research layer: corpora, metrics, the simulation experiment and training.

``datasets`` (the MIR-1K layout), ``evaluation`` (BSS Eval, museval, melody metrics), ``experiments``
(Nakano et al.'s simulated corrections), ``training`` and ``augment`` (pretraining the pitch models),
``benchmarking`` (what the scripts in ``benchmarks/`` share). Its metric libraries are the optional extra
``research`` (``pip install -e ".[research]"``).
"""

from __future__ import annotations

import importlib.util

from ..errors import IpysvsError

__all__ = ["EXTRA_MODULES", "require_extra"]

EXTRA_MODULES = ("mir_eval", "museval", "matplotlib")  # what the extra ``research`` installs


def require_extra() -> None:
    """Check that the optional extra ``research`` is installed.

    Raises:
        IpysvsError: naming the missing libraries and the command that installs them.
    """
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise IpysvsError(
            f"{', '.join(missing)} not installed: the research tools need the extra 'research' "
            '(pip install -e ".[research]")'
        )
