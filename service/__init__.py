"""The service edge: settings, the compiled graph with its checkpointer, and the Python API."""
