"""Does nothing: a profile with no samples."""
