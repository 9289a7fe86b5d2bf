"""Storage: Django models for application data, and the Parquet line store (linestore.py)."""
