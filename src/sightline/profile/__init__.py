"""sightline.profile."""
