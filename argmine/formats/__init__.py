"""Exports of :class:`argmine.graph.ArgumentGraph` to formats other tools read.

- :mod:`argmine.formats.networkx`: a ``networkx.DiGraph`` (lossless, both ways), for graph
  algorithms.
- :mod:`argmine.formats.aif`: AIF / xAIF JSON (lossless with argmine's ``"argmine"`` extension
  key; plain AIF from AIFdb and other tools is read too), for the argument-web tool chain.
- :mod:`argmine.formats.dot`: Graphviz DOT text (write only), for pictures.
- :mod:`argmine.formats.brat`: brat standoff ``.txt``/``.ann`` (lossless, both ways), for
  annotation and for reading annotated corpora.

The graph's own JSON form is described in ``docs/graph-schema.md``.
"""
