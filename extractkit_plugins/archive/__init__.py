"""Archives (zip, tar, gzip, bzip2, xz; standard library only): members become documents of their own.

The archive's own text is its member listing, one path per line, so it is found
by member names; each member is written into the job folder with a hard cap on
the bytes written and handed to the pipeline as an embedded document.
"""
