"""Periodic reports: the figures of an organisation, a unit or the region for a period.

data.py gathers the figures (through selectors.results only), rows.py is the one row generator that the
writers share (csv_writer.py, xlsx.py, pdf.py), periods.py parses 2025Q3 / 2025H1 / 2025T2 / 2025.
"""
