"""Classification learners: labels of any type, one logit per class, probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from mlrpy.errors import DataError
from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.inputs import scalar_kind
from mlrpy.prediction import Prediction, PredictionClassif

__all__ = ["LearnerTorchClassif", "log_probabilities", "probabilities"]


def probabilities(output: torch.Tensor) -> np.ndarray:
    """Softmax in float64, so each row sums to one within sklearn's tolerance.

    Written out because ``torch.softmax`` over a handful of classes is slow on the CPU
    (2x for 3 classes, see benchmarks/README.md); the results agree to 1e-16.
    """
    z = output.double()
    z = z - z.amax(dim=1, keepdim=True)
    p = z.exp_()
    p /= p.sum(dim=1, keepdim=True)
    return p.numpy()


def log_probabilities(output: torch.Tensor) -> np.ndarray:
    """Log-softmax in float64: the log of :func:`probabilities`, computed from the logits.

    A class whose probability underflows to 0 still gets its finite log-probability (about
    ``logit - max logit``), where ``np.log(probabilities(...))`` would give ``-inf``; only a
    logit of ``-inf`` gives ``-inf``.

    Example:
        >>> import torch
        >>> from mlrpy.learners.classif import log_probabilities
        >>> log_probabilities(torch.tensor([[0.0, 0.0], [0.0, -1000.0]])).round(3).tolist()
        [[-0.693, -0.693], [0.0, -1000.0]]
    """
    return torch.log_softmax(output.double(), dim=1).numpy()


def _check_label_types(learner_id: str, y: np.ndarray) -> None:
    """Labels of mixed Python types (``1`` and ``"1"``) cannot be ordered or told apart."""
    if y.dtype != object:
        return
    kinds = {scalar_kind(v) for v in y}
    if len(kinds) > 1:
        raise DataError(
            f"Learner '{learner_id}': y mixes label types {sorted(kinds)}; use one type for "
            f"all labels (e.g. convert them all to str)"
        )


def _classes_and_codes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(y, return_inverse=True)``: the sorted distinct labels and each row's
    position among them.

    Labels that are small non-negative integers (``0..n_rows``, the usual encoding) are
    counted instead of sorted (the same result in ~60% of the time), and labels ``0..k-1``
    with every one present are their own codes (a copy); any other labels are sorted by
    ``np.unique``.
    """
    small_ints = (
        y.ndim == 1 and len(y) > 0 and (y.dtype.kind == "i" or (y.dtype.kind == "u" and y.dtype.itemsize < 8))
    )
    if small_ints and y.min() >= 0 and y.max() <= len(y):
        present = np.bincount(y) > 0
        classes = np.flatnonzero(present).astype(y.dtype)
        if present.all():  # labels 0..k-1, every one present: each label is its own code
            return classes, y.astype(np.int64)
        return classes, (np.cumsum(present) - 1)[y]
    return np.unique(y, return_inverse=True)


def _kind_of_classes(classes: np.ndarray) -> str:
    """scikit-learn's ``type_of_target`` of the sorted distinct labels ``classes``.

    Integer, boolean and string labels are always ``"binary"`` or ``"multiclass"``, which is
    decided here without ``type_of_target`` (~0.1 ms of every fit); floats, objects and bytes
    take scikit-learn's checks and messages.
    """
    if classes.ndim == 1 and classes.dtype.kind in "biuU":
        return "binary" if len(classes) <= 2 else "multiclass"
    return str(type_of_target(classes))


class LearnerTorchClassif(ClassifierMixin, LearnerTorch):
    """Classification: any label type; the network outputs one logit per class.

    Adds ``classes_``, ``predict_proba`` and ``predict_type="prob"`` to :class:`LearnerTorch`.
    """

    task_type = "classif"
    _default_loss = "cross_entropy"
    _predict_types = ("response", "prob")

    def _encode_target(self, y: np.ndarray, fit: bool) -> torch.Tensor:
        _check_label_types(self.id, y)
        if fit:
            # one pass gives the classes and the codes; y is 1-D here, so the kind of target
            # follows from its distinct values alone
            classes, codes = _classes_and_codes(y)
            kind = _kind_of_classes(classes)
            if kind not in ("binary", "multiclass"):
                check_classification_targets(y)  # sklearn's own message for continuous targets
                raise DataError(f"Learner '{self.id}': y must be binary or multiclass labels, got {kind}")
            if len(classes) < 2:
                raise DataError(
                    f"Learner '{self.id}': y has only one class ({classes[0]!r}); "
                    f"a classifier needs at least 2 classes"
                )
            self._label_encoder = LabelEncoder()
            self._label_encoder.classes_ = self.classes_ = classes
            return torch.from_numpy(codes.reshape(-1).astype(np.int64, copy=False))
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise DataError(
                f"Learner '{self.id}': labels {unseen.tolist()} were not in the training data "
                f"(classes: {self.classes_.tolist()})"
            )
        return torch.from_numpy(np.searchsorted(self.classes_, y).astype(np.int64))

    def _check_weighted_target(self, y: torch.Tensor, weights: np.ndarray) -> None:
        weighted = np.unique(y.numpy()[weights > 0])
        if len(weighted) < 2:
            raise DataError(
                f"Learner '{self.id}': only class {self.classes_[weighted].tolist()[0]!r} has rows with "
                f"a positive sample weight; a classifier needs at least 2 classes with weight"
            )

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _decode_target(self, target: torch.Tensor) -> np.ndarray:
        return self.classes_[target.numpy()]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        return probabilities(self._forward(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log class probabilities (columns as in ``classes_``), from the logits: the log of
        ``predict_proba`` where that is positive, and finite where it underflows to 0.

        Example:
            >>> import numpy as np
            >>> from mlrpy import lrn
            >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), ["a", "a", "b", "b"]
            >>> learner = lrn("classif.mlp", epochs=2, random_state=0).fit(X, y)
            >>> np.allclose(learner.predict_log_proba(X), np.log(learner.predict_proba(X)))
            True
        """
        return log_probabilities(self._forward(X))

    def _decode_response(self, output: torch.Tensor) -> np.ndarray:
        return self.classes_[output.argmax(dim=1).numpy()]

    def _make_prediction(
        self, rows: Sequence[Any], truth: Any, output: torch.Tensor, with_prob: bool = False
    ) -> Prediction:
        prob = None
        if self.predict_type == "prob" or with_prob:
            prob = pd.DataFrame(probabilities(output), columns=list(self.classes_))
        return PredictionClassif(
            rows, truth, self._decode_response(output), prob=prob, class_names=list(self.classes_)
        )
