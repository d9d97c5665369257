"""A generated corpus of hostile files with the outcome each must get."""
