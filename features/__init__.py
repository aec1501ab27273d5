"""Data in: the partners' rows read, checked against their contracts, gated by consent,
turned into as-of features. One job per module:

=================  ========================================================================
``spec``           typed parameters (built once by ``flows`` from the configuration)
``text``           decoding and separator sniffing of every text file (indicators too)
``readers``        a source's file or folder of parts, as sent, into a frame
``contracts``      the data contracts: each source's columns, types and checks (declared)
``validate``       the engine: a frame checked against its contract, a reason per row
``describe``       example rows in messages, without pseudonyms or identifiers
``sources``        every configured source through reader, contract and bad-row policy
``consent``        who may be scored, listed, and whose partner rows used, on a date
``coverage``       whether the data reaches the as-of date (and training has history)
``build``          as-of features; ``catalogue`` says what each one means
``labels``         outcomes as labels; ``folds``: rolling temporal folds over as-of dates
``errors``         the one domain error, and hiding identifier-shaped text in messages
``names``          patterns of names that become file names (teams, partners)
``pseudonym``      keyed hashes: the second pseudonym layer, the erasure register
``safe_repr``      reprs that show sizes, never rows
=================  ========================================================================

Nothing here reads a clock, a file name from the environment, or imports ``flows``.
"""
