"""What every Dask worker of :mod:`ipysvs.cluster` does once, when it starts (imports ``distributed``:
only imported where Dask is installed)."""

from __future__ import annotations

from distributed import WorkerPlugin

__all__ = ["WorkerSetup"]


class WorkerSetup(WorkerPlugin):
    """Cap torch at ``threads`` per worker process and load the pretrained separator and the pitch
    networks once, when the worker starts (and again in a worker that replaces a dead one), so that
    no task pays for it and no weights travel through the scheduler."""

    name = "ipysvs-worker-setup"

    def __init__(self, threads: int = 1, *, load_models: bool = True) -> None:
        self.threads = threads
        self.load_models = load_models

    def setup(self, worker: object) -> None:
        import torch

        torch.set_num_threads(self.threads)
        if self.load_models:
            from .models.joint import default_joint_model
            from .separation import default_separator

            default_separator()
            default_joint_model()
