"""Where layer data is kept: stored files (files.py) beside the PostGIS features."""
