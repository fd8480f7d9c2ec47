"""The OpenStack image forge: build, patch and verify OpenStack service images."""
