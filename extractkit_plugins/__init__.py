"""The builtin plugins: one module per source, extractor, sink or detector."""
