"""Shared helpers of the mtakit Python tests."""

pytest_plugins = ["pytester"]
