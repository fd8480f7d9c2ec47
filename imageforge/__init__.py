"""The OpenStack image forge: the library behind tasks.py and noxfile.py.

Rooms follow the data flow of README: ``config`` (releases.yaml and the
overrides files) -> ``upstream`` (mirrors, pinned projects) -> ``patches``
(series, lint, check, patched exports) -> ``constraints`` -> ``build`` ->
``verify`` (smoke, SBOM); ``maintain`` moves refs and series forward (bump,
refresh, edit); ``host`` is the one door to git, docker, other programs and
the file system. ``context.Forge`` carries what the environment says.
"""
