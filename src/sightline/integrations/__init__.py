"""Ready-made hooks that log through a :class:`~sightline.sdk.Monitor`: scikit-learn
estimators (:mod:`.sklearn`), PyTorch modules (:mod:`.torch`) and ASGI apps (:mod:`.asgi`).
Each imports its framework only when used."""
