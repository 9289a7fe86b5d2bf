"""Pure domain rules: no Django, no database, no engine. Everything here is unit-testable by itself."""
