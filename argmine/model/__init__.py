"""The network: one encoder pass per document, small heads on top, and how a text is read.

In the order a text goes through them:

- :mod:`~argmine.model.windows`: tokens with character offsets, windows over long documents;
- :mod:`~argmine.model.encoders` and :mod:`~argmine.model.plain`: loading the base encoder
  (transformers, or plain torch for BERT and MPNet) and its tokenizer, LoRA, checksums;
- :mod:`~argmine.model.segmentation`: BIO tags to spans;
- :mod:`~argmine.model.spans`: span vectors shared by the span heads;
- :mod:`~argmine.model.classification`, :mod:`~argmine.model.relations`,
  :mod:`~argmine.model.counterfactuals`: the heads and their decoders;
- :mod:`~argmine.model.config` and :mod:`~argmine.model.network`: ``config.json`` and the
  module that holds it all (:class:`~argmine.model.network.ArgumentModel`), whose
  ``span_outputs`` is how the pipeline and the training losses read the span heads.

Model folders are found and read through :mod:`argmine.hub`, which never imports this package.
"""
