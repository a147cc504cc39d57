"""Bridges to other engines, each behind its optional extra (``pip install 'argmine[ray]'``).

- :mod:`argmine.integrations.ray`: label a corpus too big for one machine with Ray Data.
- :mod:`argmine.integrations.spacy`: ``nlp.add_pipe("argmine")``, argument units as spaCy
  spans and the graph on the ``Doc`` (``pip install 'argmine[spacy]'``).
"""
