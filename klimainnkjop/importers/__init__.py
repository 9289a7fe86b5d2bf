"""File parsers. Each reads a whole file into validated rows, or a complete list of errors. They write nothing."""
