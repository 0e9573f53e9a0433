"""Safe, streaming import of vector files into PostGIS (see pipeline.py and safety.py)."""
