"""Plugins used only by the test suite."""
