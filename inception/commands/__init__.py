"""One module per CLI verb (or verb group); each exposes `register(app)` and is picked up by inception.cli."""
