"""Categorical columns through both faces, Pipeline, GridSearchCV and resample."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mlrpy
from mlrpy import DataError, as_task_classif, as_task_regr, lrn, mlr_learners, resample, rsmp, torch_callback
from mlrpy.learners.encoding import TableEncoder
from tests.learners.test_learners import Net
from tests.tables.frames import mixed_frame, xor_target

SMALL = {
    "mlp": {"neurons": (8,)},
    "tab_resnet": {"n_blocks": 1, "d_block": 8, "d_hidden": 8, "d_hidden_multiplier": None},
    "ft_transformer": {"n_blocks": 1, "d_token": 8, "ffn_d_hidden": 8, "ffn_d_hidden_multiplier": None},
    "tabm": {"k": 2, "n_blocks": 1, "d_block": 8},
    "module": {"module": Net},
    "torch_featureless": {},
}


def _small(key: str, **kw):
    family = key.split(".", 1)[1]
    return lrn(key, epochs=1, batch_size=16, random_state=0, device="cpu", **SMALL[family], **kw)


def test_learns_from_a_categorical_column_on_new_data():
    train, test = mixed_frame(300, seed=0), mixed_frame(200, seed=1)
    learner = lrn("classif.mlp", epochs=20, random_state=0, neurons=(16,), device="cpu", **{"opt.lr": 0.01})
    learner.fit(train, xor_target(train))
    # a linear model on one-hot columns gets about 0.65 here
    assert learner.score(test, xor_target(test)) > 0.95
    assert learner.feature_info_.categorical == ["colour", "size"]


def test_both_faces_give_the_same_model():
    df = mixed_frame(60)
    y = xor_target(df)
    fitted = lrn("classif.mlp", epochs=2, random_state=0, device="cpu").fit(df, y)
    task = as_task_classif(df.assign(target=y), target="target")
    trained = lrn("classif.mlp", epochs=2, random_state=0, device="cpu").train(task)
    assert fitted.model.encoding == trained.model.encoding
    np.testing.assert_array_equal(fitted.predict_proba(df), trained.predict_proba(df))
    assert (trained.predict(task).response == fitted.predict(df)).all()


@pytest.mark.parametrize(
    "key", [k for k in mlr_learners if "factor" in type(mlr_learners.get(k)).feature_types]
)
def test_every_learner_trains_and_predicts_on_every_feature_type(key):
    df = mixed_frame(40)
    y = xor_target(df) if key.startswith("classif") else df["x"].to_numpy() * 2
    learner = _small(key).fit(df, y)
    assert learner.predict(df).shape == (40,)
    if key.split(".")[1] in ("mlp", "tab_resnet", "ft_transformer", "tabm"):
        embeddings = [m for m in learner.model.network.modules() if isinstance(m, torch.nn.Embedding)]
        # unknown + 3 levels for each of the two columns (one table or one per column)
        assert sum(e.num_embeddings for e in embeddings) == 8


def test_numpy_object_array_of_strings_is_encoded():
    df = mixed_frame(40)
    X = df[["x", "colour"]].to_numpy(dtype=object)
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu").fit(X, xor_target(df))
    assert learner.feature_info_.numeric == ["x0"] and learner.feature_info_.categorical == ["x1"]
    assert learner.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("as_frame", [False, True])
def test_numeric_tables_never_reach_the_encoder(as_frame, monkeypatch, iris_xy):
    def refuse(*args, **kwargs):
        raise AssertionError("a numeric table went through the encoder")

    monkeypatch.setattr(TableEncoder, "fit", refuse)
    monkeypatch.setattr(TableEncoder, "transform", refuse)
    X, y = iris_xy
    X = pd.DataFrame(X, columns=list("abcd")) if as_frame else X
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu").fit(X, y)
    learner.predict(X)
    assert learner.model.encoding is None
    assert learner.feature_info_.categorical == []


def test_prediction_columns_are_checked_by_name_and_order():
    df = mixed_frame(30)
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu").fit(df, xor_target(df))
    with pytest.raises(DataError, match="feature names"):
        learner.predict(df.rename(columns={"colour": "color"}))
    with pytest.raises(DataError, match="feature names"):
        learner.predict(df[list(reversed(df.columns))])
    with pytest.raises(DataError, match="missing:\n- flag"):
        learner.predict(df.drop(columns="flag"))
    with pytest.warns(UserWarning, match="valid feature names"), pytest.raises(DataError, match="5 features"):
        learner.predict(df.iloc[:, :4].to_numpy(dtype=object))


def test_pipeline_with_a_pandas_column_transformer():
    df = mixed_frame(80)
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["x", "count"])], remainder="passthrough", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    pipe = Pipeline([("pre", pre), ("mlp", lrn("classif.mlp", epochs=2, random_state=0, device="cpu"))])
    pipe.fit(df, xor_target(df))
    mlp = pipe.named_steps["mlp"]
    assert mlp.feature_info_.categorical == ["colour", "size"]
    assert pipe.predict(df).shape == (80,)


def test_grid_search_on_a_table_with_categorical_columns():
    df = mixed_frame(60)
    learner = lrn("classif.mlp", epochs=2, random_state=0, device="cpu")
    search = GridSearchCV(learner, {"embedding_dim": [2, 3]}, cv=2).fit(df, xor_target(df))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.feature_info_.categorical == ["colour", "size"]


def test_resample_on_a_task_with_categorical_columns():
    df = mixed_frame(60)
    task = as_task_regr(df.assign(target=df["x"] * 2), target="target")
    result = resample(task, lrn("regr.mlp", epochs=1, random_state=0, device="cpu"), rsmp("cv", folds=3))
    assert len(result.predictions()) == 3
    assert all(np.isfinite(v) for v in result.aggregate().values())


def test_callbacks_see_the_columns_as_given_in_the_scikit_learn_face():
    seen = {}
    probe = torch_callback(
        "probe",
        on_begin=lambda self: seen.update(
            train=self.ctx.task_train.feature_types, n_valid=self.ctx.task_valid.nrow
        ),
    )
    df = mixed_frame(50)
    lrn("classif.mlp", epochs=1, random_state=0, validate=0.2, callbacks=[probe], device="cpu").fit(
        df, xor_target(df)
    )
    assert seen["train"]["type"].tolist() == ["numeric", "factor", "ordered", "integer", "logical"]
    assert seen["n_valid"] == 10


def test_validation_data_is_encoded_with_the_training_levels():
    train, valid = mixed_frame(40, seed=0), mixed_frame(20, seed=1)
    valid.loc[0, "colour"] = "violet"
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu")
    with pytest.warns(UserWarning, match="'violet'"):
        learner.fit(train, xor_target(train), validation_data=(valid, xor_target(valid)))
    assert learner.model.internal_valid_scores is not None


def test_warm_start_keeps_the_levels_of_the_first_fit():
    first, second = mixed_frame(40, seed=0), mixed_frame(40, seed=1)
    second.loc[0, "colour"] = "violet"
    learner = lrn("classif.mlp", epochs=1, random_state=0, warm_start=True, device="cpu")
    learner.fit(first, xor_target(first))
    encoding = learner.model.encoding
    with pytest.warns(UserWarning, match="'violet'"):
        learner.fit(second, xor_target(second))
    assert learner.model.epochs == 2 and learner.model.encoding == encoding


def test_pickle_round_trip_predicts_the_same():
    df = mixed_frame(40)
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu").fit(df, xor_target(df))
    back = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(back.predict_proba(df), learner.predict_proba(df))


@pytest.mark.parametrize("levels", ["strings", "numbers"])
def test_save_load_round_trip_predicts_the_same(levels, tmp_path):
    df = mixed_frame(40)
    df.loc[0, "colour"] = None
    if levels == "numbers":
        df["colour"] = df["colour"].map({"red": 1, "green": 2.5, "blue": 3}).astype("category")
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu").fit(df, xor_target(df))
    learner.save(tmp_path / "model.pt")
    back = mlrpy.load(tmp_path / "model.pt")
    assert back.feature_info_ == learner.feature_info_
    assert back.model.encoding == learner.model.encoding
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(back.predict_proba(df), learner.predict_proba(df))


def test_evaluate_encodes_categorical_columns_like_predict():
    df = mixed_frame(40)
    y = xor_target(df)
    learner = lrn("classif.mlp", epochs=2, random_state=0, device="cpu", validate=0.25).fit(df, y)
    scores = learner.evaluate(df, y, measures=["classif.acc"])
    assert scores["classif.acc"] == pytest.approx(learner.score(df, y))
