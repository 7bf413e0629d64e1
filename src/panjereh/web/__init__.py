"""The web composition root: `create_app(settings)` wires every part into one ASGI app."""
