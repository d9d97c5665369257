"""The builtin plugins, grouped by dependency family: one package per family, one module per plugin.

Each family imports its heavy libraries lazily, so loading every plugin stays cheap and a
missing optional extra fails as one line naming it (see :mod:`extractkit_plugins.extras`).
"""
