"""Performance measures (mlr3's ``Measure``) and their registry :data:`mlr_measures`.

A :class:`Measure` scores a :class:`~mlrpy.prediction.Prediction` against its truth. Every
built-in measure delegates the arithmetic to :mod:`sklearn.metrics`; this module only checks
that the prediction fits the measure (task type, predict type, known truth) and picks the
columns to pass on.

Conventions for classification measures:

* the *positive class* of a two-class problem is the task's ``positive`` class
  (``prediction.positive``, set by ``learner.predict(task)``), by default the **second** of
  ``prediction.class_names`` (the last one in sorted order, as in scikit-learn);
* a prediction of a task with a ``weight`` column carries the rows' weights
  (``prediction.weights``), and every built-in measure is then the weighted one
  (``sample_weight`` of :mod:`sklearn.metrics`), as are scikit-learn scorers;
* ``classif.f1``, ``classif.precision`` and ``classif.recall`` score the positive class on
  two-class problems and take the unweighted (macro) mean over the classes present in truth
  or response on multiclass problems;
* ``classif.auc`` is the ROC AUC of the positive class on two-class problems and the
  one-vs-rest macro mean on multiclass problems.

Undefined values (for example the AUC of a test set holding a single class) follow
scikit-learn: a warning and ``nan`` (AUC) or ``0.0`` (precision, recall, F1).

Classes the model never saw: a truth may hold a class missing from
``prediction.class_names`` (the model's classes), e.g. a rare class absent from the training
rows of a resampling iteration. Every classification measure scores such a prediction as one
whose model knows that class but never predicts it: its probability is 0 in every row and no
row's response is that class. The class counts like any other, so a two-class model scored on
three classes is scored as a three-class problem (multiclass AUC, macro F1, ...), never as a
two-class one; the log loss of a row whose true class has probability 0 is that of
scikit-learn's clipped probability. A truth whose labels cannot be compared with the model's
classes (numbers against strings) raises :class:`~mlrpy.errors.DataError`, as does any data a
scoring function rejects, naming the measure and the classes.

scikit-learn in both directions: ``msr("sklearn", scorer="neg_log_loss")`` (or just
``msr("neg_log_loss")``) scores with any scikit-learn scorer (:mod:`mlrpy.measures.scorers`),
and :meth:`Measure.as_scorer` hands any measure to ``GridSearchCV(scoring=...)``.

Modules: :mod:`~mlrpy.measures.base` (the :class:`Measure` class),
:mod:`~mlrpy.measures.classif` and :mod:`~mlrpy.measures.regr` (the built-in measures),
:mod:`~mlrpy.measures.scorers` (scikit-learn scorers), :mod:`~mlrpy.measures.registry`
(:data:`mlr_measures` and the lookup functions).

Example:
    >>> from mlrpy.measures import msr
    >>> from mlrpy.prediction import PredictionRegr
    >>> pred = PredictionRegr([0, 1, 2], truth=[1.0, 2.0, 3.0], response=[1.0, 2.0, 5.0])
    >>> msr("regr.mae").score(pred)
    0.6666666666666666
"""

from __future__ import annotations

from mlrpy.measures.base import Measure, MeasureScorer
from mlrpy.measures.registry import (
    as_measure,
    as_measures,
    default_measure,
    mlr_measures,
    msr,
    msrs,
    resolve_measures,
    score_prediction,
)
from mlrpy.measures.scorers import MeasureSklearn

__all__ = [
    "Measure",
    "MeasureScorer",
    "MeasureSklearn",
    "as_measure",
    "as_measures",
    "default_measure",
    "mlr_measures",
    "msr",
    "msrs",
    "resolve_measures",
    "score_prediction",
]
