"""The commands of ``ennakko``, one module per kind of work; :mod:`flows.cli` assembles them.

Each command parses, calls the flows and reports, nothing more. Heavy libraries are
imported inside the commands so that ``ennakko --help`` answers at once.
"""
