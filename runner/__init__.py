"""The extractkit runner: configuration, the worker loop, isolation and the command line."""
