"""sightline.stats."""
