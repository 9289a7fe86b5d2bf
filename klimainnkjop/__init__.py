"""Klimainnkjøp: greenhouse-gas accounts of public purchases.

Layers (see README, "Design"):
  core/       pure domain rules (no framework imports)
  engine/     the per-line pipeline as dataframe expressions (ibis: DuckDB now, Spark later)
  storage/    Django models (application data) and the Parquet line store
  importers/  file parsers that validate a whole file into rows, writing nothing
  services/   every write, as do_<verb>_<noun>(..., *, actor)
  selectors/  every read, scoped by access.py
  web/, cli.py  faces that only call services and selectors
"""
