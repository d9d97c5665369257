"""The OCR and quality truth sets: generators of files whose exact text is known, and the scorers (CER).

``generate`` builds the set and its ``manifest.json``; ``texts`` holds the ground-truth prose, ``render`` the
layout and degradations, ``cer`` the character error rate and ``scoring`` the per-file and per-page scores.
"""
