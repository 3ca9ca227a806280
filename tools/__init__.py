"""Data layer of Acme Support Desk: SQLite storage, seed data, refund policy and knowledge base.

Importing this package does no work; open a database with ``tools.db.Database``.
"""
