"""The names of a song's parts, used everywhere a stem is named (files, players, metrics, networks)."""

from __future__ import annotations

__all__ = ["STEMS", "TRACKS"]

STEMS = ("vocals", "accompaniment")  # what separation estimates, in this order
TRACKS = ("mixture", *STEMS)  # what a user can listen to or export
