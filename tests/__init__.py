"""Tests. This file makes pytest put the project root on sys.path so ``tools`` imports."""
