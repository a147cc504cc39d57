"""The Ray Data path, on a local two-CPU Ray: read Parquet -> actor pool -> write Parquet."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

TEXTS = [
    "We should ban cars in the city centre. Cars pollute the air.",
    "Tuition should be free. Education benefits everyone in society.",
    "",
    None,
]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def finished_within(seconds: float, work):
    """``work()``'s result, failing the test (not hanging it) if Ray never finishes."""
    import threading

    done: list = []
    runner = threading.Thread(target=lambda: done.append(work()), daemon=True)
    runner.start()
    runner.join(seconds)
    assert done, f"Ray did not finish within {seconds} s: a deadlock over CPUs?"
    return done[0]


def test_label_files_on_ray(local_ray, tmp_path, tiny_model_dir):
    import pandas as pd

    from argmine.integrations.ray import graphs, label_files

    frame = pd.DataFrame({"id": [f"d{i}" for i in range(4)], "text": TEXTS, "n": range(4)})
    frame.to_parquet(tmp_path / "in.parquet")
    # two actors on two CPUs: the read must still get a CPU (see actor_pool)
    finished_within(
        180,
        lambda: label_files(
            tmp_path / "in.parquet", tmp_path / "out", model=tiny_model_dir, workers=2
        ),
    )
    out = pd.read_parquet(tmp_path / "out").sort_values("id").reset_index(drop=True)
    assert list(out["id"]) == ["d0", "d1", "d2", "d3"]  # one row per input row
    assert list(out["n"]) == [0, 1, 2, 3]  # other columns pass through
    assert "text" not in out.columns  # the graph carries it
    labelled = graphs(out)
    assert labelled[0].text == TEXTS[0] and labelled[0].metadata["id"] == "d0"
    assert labelled[2].components == []  # empty text: empty graph
    assert labelled[3] is None and "null" in out.loc[3, "error"]
    assert out["error"].isna().tolist() == [True, True, True, False]
    assert out.loc[0, "n_components"] == len(labelled[0].components)


def test_a_single_block_input_is_split_for_every_actor(local_ray):
    """A pandas frame is one block: left so, one of two actors would do all the work."""
    import pandas as pd

    from argmine.integrations.ray import split_for_actors

    frame = pd.DataFrame({"id": [str(i) for i in range(100)], "text": ["Ban cars."] * 100})
    dataset = ray.data.from_pandas(frame)
    split = split_for_actors(dataset, workers=2, rows_per_block=16).materialize()
    assert split.num_blocks() >= 2
    assert sorted(split.to_pandas()["id"]) == sorted(frame["id"])  # every row, once
    many = ray.data.from_pandas([frame.iloc[:50], frame.iloc[50:]])
    assert split_for_actors(many, workers=2) is many  # enough blocks already: left alone


def test_two_actors_on_two_cpus_still_leave_a_cpu_for_reading(local_ray):
    """Actors holding both CPUs would starve the read/split tasks: the pool starts smaller."""
    from argmine.integrations.ray import actor_pool

    pool = actor_pool(ray, workers=2, num_cpus=1)
    assert (pool.min_size, pool.max_size) == (1, 2)
    assert actor_pool(ray, workers=1, num_cpus=1).min_size == 1
    assert actor_pool(ray, workers=3, num_cpus=0.5).min_size == 2


def test_label_dataset_from_pandas_with_two_actors(local_ray, tiny_model_dir):
    import pandas as pd

    from argmine.integrations.ray import graphs, label_dataset

    texts = [f"We should ban cars, case {i}. Cars pollute the air." for i in range(40)]
    frame = pd.DataFrame({"id": [f"d{i}" for i in range(40)], "text": texts})
    labelled = label_dataset(
        ray.data.from_pandas(frame), model=tiny_model_dir, workers=2, batch_size=8
    )
    out = finished_within(180, labelled.to_pandas)
    assert sorted(out["id"]) == sorted(frame["id"]) and out["id"].is_unique
    assert out["error"].isna().all()
    by_id = dict(zip(out["id"], graphs(out), strict=True))
    assert all(by_id[f"d{i}"].text == texts[i] for i in range(40))
