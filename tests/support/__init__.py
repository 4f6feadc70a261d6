"""Helpers the tests share (fixtures are in the conftest files)."""
