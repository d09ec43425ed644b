"""Implementations of the ``ipysvs`` command-line sub-commands."""
