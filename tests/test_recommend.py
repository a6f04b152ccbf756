"""RBMRecommender and AutoEncoderRecommender: they learn, rank, persist, and refuse bad input clearly."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import deepzoo
from deepzoo import AutoEncoderRecommender, BiasRecommender, RBMRecommender
from deepzoo.data.ratings import make_ratings
from deepzoo.models.recommend import ColdStartWarning, bias_terms, ranking_metrics


def synthetic_ratings(n_users=80, n_items=50, density=0.5, seed=0):
    """Ratings 1-5 from a rank-2 taste model; ids sparse (users 1000+, items 'm<k>'). (train, test)."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(n_users, 2)) @ rng.normal(size=(2, n_items)) + rng.normal(0, 0.3, (n_users, 1))
    ratings = np.clip(np.rint(3 + 1.2 * taste), 1, 5)
    users, items = np.nonzero(rng.random((n_users, n_items)) < density)
    frame = pd.DataFrame(
        {"user": users * 7 + 1000, "item": [f"m{i}" for i in items], "rating": ratings[users, items]}
    )
    test_mask = rng.random(len(frame)) < 0.2
    return frame[~test_mask].reset_index(drop=True), frame[test_mask].reset_index(drop=True)


def rmse_of(pred, test):
    return float(np.sqrt(np.mean((np.asarray(pred) - test["rating"].to_numpy()) ** 2)))


def rmse_of_item_means(train, test):
    means = train.groupby("item")["rating"].mean()
    return rmse_of(test["item"].map(means).fillna(train["rating"].mean()), test)


# -- learning ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["item", "user"])
def test_autoencoder_recommender_beats_item_means(kind):
    train, test = synthetic_ratings()
    rec = AutoEncoderRecommender(
        kind,
        hidden_layer_sizes=(16,),
        alpha=0.0,
        learning_rate=0.01,
        batch_size=16,
        max_iter=150,
        random_state=0,
    ).fit(train)
    scores = rec.evaluate(test)
    assert scores["rmse"] < 0.85 * rmse_of_item_means(train, test)
    pred = rec.predict(test["user"], test["item"])
    assert pred.min() >= 1 and pred.max() <= 5
    assert {"rmse", "mae", "precision_at_10", "ndcg_at_10"} <= set(scores)


def test_rbm_recommender_beats_the_majority_answer():
    train, test = synthetic_ratings()
    rec = RBMRecommender(n_components=16, max_iter=60, learning_rate=0.02, batch_size=8, random_state=0).fit(
        train
    )
    scores = rec.evaluate(test)
    assert scores["accuracy"] > scores["baseline_accuracy"] + 0.05
    p = rec.predict(test["user"], test["item"])
    assert p.min() >= 0 and p.max() <= 1


def test_recommend_excludes_seen_items_and_ranks():
    train, _ = synthetic_ratings()
    rec = AutoEncoderRecommender(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(train)
    user = train["user"].iloc[0]
    top = rec.recommend(user, 5)
    assert list(top.columns) == ["item", "score"] and len(top) == 5
    assert not set(top["item"]) & set(train.loc[train["user"] == user, "item"])
    assert top["score"].is_monotonic_decreasing
    everything = rec.recommend(user, 1000, exclude_seen=False)
    assert len(everything) == train["item"].nunique()
    with pytest.raises(ValueError, match="positive int"):
        rec.recommend(user, 0)


def test_same_seed_same_predictions_and_save_load(tmp_path):
    train, test = synthetic_ratings()
    for rec in (
        RBMRecommender(n_components=8, max_iter=3, random_state=1),
        AutoEncoderRecommender("user", hidden_layer_sizes=(8,), max_iter=5, random_state=1),
    ):
        a = rec.fit(train).predict(test["user"], test["item"])
        again = clone(rec).fit(train).predict(test["user"], test["item"])
        np.testing.assert_array_equal(a, again)
        deepzoo.save(rec, tmp_path / type(rec).__name__)
        back = deepzoo.load(tmp_path / type(rec).__name__)
        np.testing.assert_allclose(back.predict(test["user"], test["item"]), a, rtol=1e-6)
        assert (
            back.recommend(train["user"].iloc[0], 3)["item"].tolist()
            == rec.recommend(train["user"].iloc[0], 3)["item"].tolist()
        )


# -- bad input -----------------------------------------------------------------------------------------
def test_cold_start_gets_the_bias_model_and_says_so():
    train, _ = synthetic_ratings()
    rec = AutoEncoderRecommender(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(train)
    known_user, known_item = train["user"].iloc[0], train["item"].iloc[0]
    with pytest.warns(ColdStartWarning, match=r"3 of 3 pairs.*2 unknown user.*2 unknown item.*bias model"):
        p = rec.predict([-1, known_user, -1], [known_item, "new-movie", "new-movie"])
    u = np.searchsorted(rec.users_, known_user)
    i = np.searchsorted(rec.items_, known_item)
    mean = rec.global_mean_
    np.testing.assert_allclose(p, [mean + rec.item_bias_[i], mean + rec.user_bias_[u], mean], rtol=1e-12)
    with pytest.warns(ColdStartWarning, match="not in the training ratings"):
        top = rec.recommend("stranger", 3)
    best = np.sort(mean + rec.item_bias_)[::-1][:3]
    assert top["score"].tolist() == pytest.approx(best.tolist())
    # the fallback is BiasRecommender's model: fitted on every training rating (residual=False), or on
    # the ratings left after early stopping's hold-out (residual=True, so that they stay unseen)
    bias = BiasRecommender().fit(train)
    plain = AutoEncoderRecommender(hidden_layer_sizes=(8,), max_iter=1, residual=False).fit(train)
    np.testing.assert_allclose(plain.item_bias_, bias.item_bias_, rtol=1e-12)
    assert not np.allclose(rec.item_bias_, bias.item_bias_)


def test_bias_terms_solve_the_regularised_least_squares_problem():
    # oracle: the normal equations of min sum (r - m - b_u - b_i)^2 + reg_u |b_u|^2 + reg_i |b_i|^2 with
    # the mean m fixed, solved by NumPy's dense solver; the alternating sweeps converge to the same point
    train, _ = synthetic_ratings(n_users=30, n_items=20, density=0.4)
    users, u = np.unique(train["user"], return_inverse=True)
    items, i = np.unique(train["item"], return_inverse=True)
    r = train["rating"].to_numpy(float)
    mean, b_u, b_i = bias_terms(u, i, r, len(users), len(items), reg_user=3.0, reg_item=2.0, n_iter=500)
    A = np.zeros((len(r), len(users) + len(items)))
    A[np.arange(len(r)), u] = 1
    A[np.arange(len(r)), len(users) + i] = 1
    penalty = np.diag([3.0] * len(users) + [2.0] * len(items))
    exact = np.linalg.solve(A.T @ A + penalty, A.T @ (r - r.mean()))
    assert mean == pytest.approx(r.mean())
    # 500 sweeps of a contraction with factor < 1 leave far less than 1e-9 of the start's error
    np.testing.assert_allclose(np.r_[b_u, b_i], exact, atol=1e-9)


def test_bias_recommender_fits_predicts_recommends_and_saves(tmp_path):
    # ratings made of user and item effects only: the bias model should find them, item means cannot
    ratings = make_ratings(80, 60, 2000, taste=0.0, bias=0.8, noise=0.5, random_state=0).sample(
        frac=1, random_state=0
    )
    train, test = ratings.iloc[:1600], ratings.iloc[1600:]
    rec = BiasRecommender().fit(train)
    assert rec.rating_scale_ == (1.0, 5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColdStartWarning)  # a few test users or items are unseen
        pred = rec.predict(test["user"], test["item"])
    assert rmse_of(pred, test) < 0.8 * rmse_of_item_means(train, test)
    user = train["user"].iloc[0]
    top = rec.recommend(user, 5)
    assert not set(top["item"]) & set(train.loc[train["user"] == user, "item"])
    deepzoo.save(rec, tmp_path / "bias")
    assert not (tmp_path / "bias" / "weights.safetensors").exists()  # the JSON is the whole model
    back = deepzoo.load(tmp_path / "bias")
    np.testing.assert_array_equal(back.predict(test["user"], test["item"]), pred)
    assert back.recommend(user, 5)["item"].tolist() == top["item"].tolist()


def test_the_scale_is_read_from_the_data_unless_given():
    train, test = synthetic_ratings()
    half = train.assign(rating=train["rating"] / 2)  # 0.5 .. 2.5 stars: no setting needed
    for rec in (
        AutoEncoderRecommender(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
        RBMRecommender(n_components=4, max_iter=1, random_state=0),
        BiasRecommender(),
    ):
        rec.fit(half)
        assert rec.rating_scale_ == (0.5, 2.5)
        pred = rec.predict(test["user"], test["item"])
        low, high = (0, 1) if isinstance(rec, RBMRecommender) else (0.5, 2.5)
        assert pred.min() >= low and pred.max() <= high
    assert RBMRecommender(max_iter=1).fit(half).like_threshold_ == 1.5  # the middle of the scale
    bad = train.copy()
    bad.loc[3, "rating"] = 7
    with pytest.raises(ValueError, match=r"1 rating\(s\) outside rating_scale=\(1, 5\), e.g. 7"):
        RBMRecommender(max_iter=1, rating_scale=(1, 5)).fit(bad)
    with pytest.raises(ValueError, match="lowest < highest"):
        AutoEncoderRecommender(rating_scale=(5, 1)).fit(train)
    with pytest.raises(ValueError, match="None .read from the data. or a pair"):
        BiasRecommender(rating_scale=(1, 2, 3)).fit(train)


def test_ratings_that_are_not_numbers_are_refused_with_the_column_and_a_value():
    train, _ = synthetic_ratings()
    words = train.astype({"rating": object})
    words.loc[4, "rating"] = "five stars"
    with pytest.raises(
        ValueError, match="rating column 'rating' holds 'five stars' \\(row 4\\).*not a number"
    ):
        BiasRecommender().fit(words)
    liked = train.assign(rating=train["rating"] >= 3)  # True / False is 1 / 0
    assert BiasRecommender().fit(liked).rating_scale_ == (0.0, 1.0)


def test_nan_in_triples_is_refused():
    train, _ = synthetic_ratings()
    for column in ("user", "rating"):
        bad = train.copy().astype({column: float})
        bad.loc[5, column] = np.nan
        with pytest.raises(ValueError, match=f"1 missing {column} value.*row 5.*dropna"):
            AutoEncoderRecommender(max_iter=1).fit(bad)


def test_duplicate_pairs_warn_and_keep_the_last():
    train, _ = synthetic_ratings()
    row = train.iloc[[0]].assign(rating=1.0 if train["rating"].iloc[0] != 1 else 5.0)
    dup = pd.concat([train, row], ignore_index=True)
    with pytest.warns(UserWarning, match="1 duplicate \\(user, item\\) pairs.*keeping the last"):
        rec = AutoEncoderRecommender("user", hidden_layer_sizes=(4,), max_iter=1, random_state=0).fit(dup)
    u = np.searchsorted(rec.users_, row["user"].iloc[0])
    i = np.searchsorted(rec.items_, row["item"].iloc[0])
    assert float(rec.module_.ratings[u, i]) == row["rating"].iloc[0]


def test_input_shapes_and_pairs_with_y():
    train, test = synthetic_ratings()
    arr = train[["user", "item", "rating"]].to_numpy(dtype=object)
    a = AutoEncoderRecommender(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(arr)
    b = AutoEncoderRecommender(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    b.fit(train[["user", "item"]], train["rating"])
    np.testing.assert_array_equal(
        a.predict(test["user"], test["item"]), b.predict(test["user"], test["item"])
    )
    with pytest.raises(ValueError, match="at least one"):
        b.fit(train.iloc[:0])
    with pytest.raises(ValueError, match="same length"):
        b.predict([1000, 1007], ["m1"])
    with pytest.raises(ValueError, match="'kind' parameter.*Did you mean 'item'"):
        AutoEncoderRecommender("items").fit(train)


def test_ranking_metrics_by_hand():
    # user 1: scores rank items a > b > c, relevance 0, 1, 1; user 2: one relevant item ranked first
    users = [1, 1, 1, 2, 2]
    relevance = [0, 1, 1, 1, 0]
    scores = [0.9, 0.8, 0.1, 0.7, 0.2]
    got = ranking_metrics(users, relevance, scores, k=2)
    ndcg_1 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert got["precision_at_2"] == pytest.approx((0.5 + 0.5) / 2)
    assert got["ndcg_at_2"] == pytest.approx((ndcg_1 + 1.0) / 2)


@pytest.mark.slow
def test_rbm_recommender_on_movielens_u1(shared_data_dir):
    from deepzoo.data.ratings import load_movielens_100k

    train, test, _ = load_movielens_100k("u1", shared_data_dir / "movielens_100k")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColdStartWarning)
        scores = RBMRecommender(random_state=0).fit(train).evaluate(test)
    assert scores["accuracy"] >= 0.78  # the target; the course reaches about 0.75


def test_autoencoder_checkpoint_resume_ends_where_an_uninterrupted_fit_ends(tmp_path):
    train, test = synthetic_ratings()
    settings = dict(hidden_layer_sizes=(16,), early_stopping=False, random_state=0)
    whole = AutoEncoderRecommender(max_iter=6, **settings).fit(train)
    ckpt = tmp_path / "autorec.ckpt"
    AutoEncoderRecommender(max_iter=3, checkpoint=str(ckpt), **settings).fit(train)  # "killed" after 3
    resumed = AutoEncoderRecommender(max_iter=6, checkpoint=str(ckpt), resume=True, **settings).fit(train)
    assert resumed.n_iter_ == 6
    np.testing.assert_allclose(resumed.history_["loss"], whole.history_["loss"], rtol=1e-6)
    np.testing.assert_allclose(
        resumed.predict(test["user"], test["item"]), whole.predict(test["user"], test["item"]), rtol=1e-6
    )


def test_autoencoder_early_stopping_holds_out_ratings_and_shrinks_its_correction():
    train, test = synthetic_ratings()
    with pytest.warns(ConvergenceWarning, match="max_iter=80 epochs.*still improving.*raise max_iter"):
        rec = AutoEncoderRecommender(hidden_layer_sizes=(32,), max_iter=80, random_state=0).fit(train)
    assert len(rec.history_["val_loss"]) == rec.n_iter_
    val = np.asarray(rec.history_["val_loss"])
    assert val[rec.best_epoch_] <= val.min() + rec.tol and rec.n_iter_ <= 80  # best within tol
    assert 0 <= rec.shrinkage_ <= 1
    # residual=False, early_stopping=False: AutoRec as published, a fixed budget, no shrinkage
    plain = AutoEncoderRecommender(
        hidden_layer_sizes=(8,), residual=False, early_stopping=False, max_iter=4, random_state=0
    ).fit(train)
    assert plain.n_iter_ == 4 and plain.shrinkage_ == 1.0 and "val_loss" not in plain.history_


def test_autoencoder_works_the_same_on_any_scale():
    # the network reads ratings in quarters of the scale's width: 1-5 stars and the same ratings halved
    # (0.5-2.5 half stars) are the same problem, and the predictions follow the scale
    train, test = synthetic_ratings()
    settings = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    stars = AutoEncoderRecommender(**settings).fit(train)
    half = AutoEncoderRecommender(**settings).fit(train.assign(rating=train["rating"] / 2))
    assert half.n_iter_ == stars.n_iter_
    # float32 arithmetic on numbers scaled by 2 rounds differently: agree to 1e-4 of a 1-5 rating
    np.testing.assert_allclose(
        2 * half.predict(test["user"], test["item"]), stars.predict(test["user"], test["item"]), atol=1e-4
    )


def test_rbm_stops_on_held_out_roc_auc_and_combines_with_the_bias_model(tmp_path):
    train, test = synthetic_ratings()
    rec = RBMRecommender(n_components=16, max_iter=40, random_state=0).fit(train)
    scores = np.asarray(rec.history_["val_score"])
    assert len(scores) == rec.n_iter_ and scores[rec.best_epoch_] >= scores.max() - rec.tol
    a, b, c = rec.combination_
    assert np.isfinite([a, b, c]).all() and (a, b, c) != (1.0, 0.0, 0.0)
    deepzoo.save(rec, tmp_path / "rbm")
    back = deepzoo.load(tmp_path / "rbm")
    assert back.combination_ == rec.combination_
    np.testing.assert_allclose(
        back.predict(test["user"], test["item"]), rec.predict(test["user"], test["item"])
    )
    # the course's machine: one unit per item, no bias model, every epoch
    course = RBMRecommender(
        n_components=8, encoding="liked", with_bias=False, early_stopping=False, max_iter=3, random_state=0
    ).fit(train)
    assert course.n_iter_ == 3 and course.combination_ == (1.0, 0.0, 0.0)
    assert course.module_.ratings.shape == (train["user"].nunique(), train["item"].nunique())
    assert rec.module_.ratings.shape == (train["user"].nunique(), 2 * train["item"].nunique())
