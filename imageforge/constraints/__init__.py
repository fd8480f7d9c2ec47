"""The release's constraints: upstream's upper-constraints with the overrides applied."""
