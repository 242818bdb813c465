"""Builder: load, validate, lint, compile and render process definitions."""
