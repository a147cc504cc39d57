"""Bridges to other engines, each behind its optional extra (``pip install 'argmine[ray]'``).

- :mod:`argmine.integrations.ray`: label a corpus too big for one machine with Ray Data.
"""
