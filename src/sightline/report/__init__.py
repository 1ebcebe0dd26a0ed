"""sightline.report."""
