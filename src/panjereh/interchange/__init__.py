"""Boundary formats (pydantic): the registry document read and written as YAML or JSON."""
