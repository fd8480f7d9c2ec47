"""Images: the build inputs on disk, the buildx plan, tags, the shared and base images."""
