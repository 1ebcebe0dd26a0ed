"""sightline.analysis."""
