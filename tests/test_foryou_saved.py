""""For you" saved in the data dir (index/foryou_saved.py): a new process shows the last ranking
at once when the library has not changed since, and never a ranking of another state."""

from __future__ import annotations

import json

import pytest

from index import foryou_saved
from index.library import Library
from test_foryou import keys_on, topic_records


@pytest.fixture(params=["whoosh", "sqlite"])
def data_dir(tmp_path, request):
    with Library.open(tmp_path / "lib", engine=request.param) as lib:
        lib.add(topic_records())
        lib.set_star_many(keys_on(lib, "speech")[:4], True)
        made = lib.for_you()
        assert made.keys and not made.message
    return tmp_path / "lib", request.param, made


def test_a_new_process_shows_the_saved_ranking_without_ranking(data_dir):
    directory, engine, made = data_dir
    with Library.open(directory, engine=engine) as lib:
        calls = []
        shown = lib.for_you(progress=lambda done, total: calls.append(done))
        assert shown.keys == made.keys and dict(shown.scores) == dict(made.scores)
        assert shown.profile.units == made.profile.units and shown.unread == made.unread
        assert calls == [] and lib._for_you.ranking is None  # nothing was ranked here
        assert shown.reason(lib.get(shown.keys[0])).words  # the detail pane can say why
        assert lib.for_you(limit=3).keys == made.keys[:3]


def test_a_change_since_the_save_means_a_fresh_ranking(data_dir):
    directory, engine, made = data_dir
    with Library.open(directory, engine=engine) as lib:
        lib.set_star(made.keys[0], True)  # the best paper is starred: no longer unread
        shown = lib.for_you()
        assert made.keys[0] not in shown.keys
        assert shown.keys == lib.for_you(saved=False).keys
    with Library.open(directory, engine=engine) as lib:  # and that one is saved in turn
        assert lib.for_you().keys == shown.keys and lib._for_you.ranking is None


def test_another_engine_or_a_damaged_file_is_not_used(data_dir, tmp_path):
    directory, engine, made = data_dir
    path = directory / foryou_saved.FILE_NAME
    record = json.loads(path.read_bytes())
    record["keys"] = list(reversed(record["keys"]))
    record["stamp"] = record["stamp"].rsplit(":", 1)[0] + ":other-engine"
    path.write_text(json.dumps(record))
    with Library.open(directory, engine=engine) as lib:
        assert lib.for_you().keys == made.keys  # ranked again, not the reversed file
    path.write_text('{"format": 1, "stamp": ')
    with Library.open(directory, engine=engine) as lib:
        assert lib.for_you().keys == made.keys


def test_damaged_scores_in_the_saved_file_mean_ranking_again(data_dir):
    directory, engine, made = data_dir
    path = directory / foryou_saved.FILE_NAME
    record = json.loads(path.read_bytes())
    assert record["format"] == 2
    for damaged in ("not base64 at all!", record["scores"][:-4]):  # bad text; a cut array
        path.write_text(json.dumps(record | {"scores": damaged}))
        with Library.open(directory, engine=engine) as lib:
            shown = lib.for_you()
            assert shown.keys == made.keys and dict(shown.scores) == dict(made.scores)
            assert lib._for_you.ranking is not None  # ranked here, the file passed over
