"""Helpers the tests share, imported as ``from support.<module> import ...``.

pytest puts ``tests/`` on ``sys.path`` (``pythonpath = ["tests"]`` in pyproject.toml), so the folders beside
the tests are top-level packages: ``support`` (these helpers), ``truth`` (generators and scorers of the OCR and
quality truth sets), ``hostile`` (the hostile-file corpus) and ``plugins`` (plugins only the tests load, by path).
``tests/conftest.py`` holds only pytest fixtures.
"""
