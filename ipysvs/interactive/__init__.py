"""The interactive layer: one song's :class:`~ipysvs.interactive.session.Session` and what it owns.

``session`` (the state and its edit history), ``edits`` (what a user can change), ``journal`` (crash
recovery of unsaved edits), ``adaptation`` (``adapt()``'s losses, layer plans and training loop),
``song_remix`` (learning from the song's own accompaniment). The widgets are views of a Session; nothing
here knows about screens.
"""
