"""A release's images as one cloud: inv cloud."""
