"""The data the maintainer writes: releases.yaml and constraints/<release>.txt, validated."""
