"""Plugins that need nothing beyond the core: the folder source, the JSON Lines sink and the local index sink."""
