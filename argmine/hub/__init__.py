"""Model management, torch-free: shipped models by name (:mod:`~argmine.hub.registry`), a model
folder's files (:mod:`~argmine.hub.folders`), base encoders and their cache
(:mod:`~argmine.hub.bases`, :mod:`~argmine.hub.fetch`) and model cards (:mod:`~argmine.hub.cards`).
Nothing here imports :mod:`argmine.model`: listing, fetching and checking models never loads a
network.
"""
