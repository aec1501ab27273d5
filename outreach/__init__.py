"""Decisions out: lists assembled, explained, written and published; decisions back.

=================  ========================================================================
``spec``           typed parameters of list assembly
``assemble``       who is listed for each team, with flags, capacity and the hold-out
``reasons``        up to three reasons from the person's own rows, in the team's language
``labels``         every word a counsellor reads, in Finnish, Swedish and English
``writers``        the XLSX, CSV and Parquet of a team's list; ``publish`` switches atomically
``decisions``      the decision codes and words, and the reviews store's schema (one place)
``review_words``   the headers a returned list may use
``reviews``        a returned list read, checked and stored
``review_report``  what the decisions add up to (small cells suppressed, ``cells``)
=================  ========================================================================
"""
