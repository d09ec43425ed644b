"""The implementations of the ``ipysvs`` command-line sub-commands (see :mod:`ipysvs.cli`)."""
