"""The engine: the per-line pipeline as portable dataframe expressions (pipeline.py), and the runner
that feeds it from the line store and writes its results (runner.py)."""
