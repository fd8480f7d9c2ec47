"""Patches prove themselves: upstream's own unit tests, chosen by what a series touches.

``select`` reads the tree's imports to pick the test modules near each patch;
``environment`` builds the image the tests run in (the service's deps stage
plus its test requirements); ``runner`` runs a selection in it; ``results``
caches and compares the patched run with the unpatched baseline; ``check``
puts them together for ``inv patches.test``.
"""
