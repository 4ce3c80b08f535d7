"""Model manifest, installed as ``redactor._models`` (see pyproject.toml)."""
