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


def test_label_files_on_ray(local_ray, tmp_path, tiny_model_dir):
    import pandas as pd

    from argmine.integrations.ray import graphs, label_files

    frame = pd.DataFrame({"id": [f"d{i}" for i in range(4)], "text": TEXTS, "n": range(4)})
    frame.to_parquet(tmp_path / "in.parquet")
    label_files(tmp_path / "in.parquet", tmp_path / "out", model=tiny_model_dir, workers=1)
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
