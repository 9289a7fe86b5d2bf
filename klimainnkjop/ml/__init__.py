"""The learned text model: Norwegian line descriptions → categories (no Django here)."""
