"""Ready-made hooks that log through a :class:`~sightline.sdk.Monitor`: scikit-learn
estimators (:mod:`.sklearn`), Keras models (:mod:`.keras`), ONNX Runtime sessions
(:mod:`.onnxruntime`), PyTorch modules (:mod:`.torch`) and ASGI apps (:mod:`.asgi`). None
imports its framework: each calls the object it wraps."""
