"""Doors to the outside: processes (git, docker, others) and the file system."""
