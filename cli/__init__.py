"""The `support` command line."""
