"""Each adapter on a copy of its fixture with one corrupt image and one missing answer: the error names
the row; with on_error='skip' both are counted skips and the good rows survive."""
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coldstart_nb.data import SOURCES, RowError, load_source
from coldstart_nb.images import ImageError
from conftest import ROOT

FX = ROOT / "data" / "fixtures"
IMAGE_COL = {"coldstart": "images", "rl": "images", "geometry3k": "images", "mathvista": "decoded_image",
             "mathverse": "image", "mathvision": "decoded_image", "wemath": "image_path"}


def corrupt(src, dst, name, bad_image_row=1, no_answer_row=2):
    t = pq.read_table(src); rows = t.to_pylist()
    col = IMAGE_COL[name]
    img = rows[bad_image_row][col]
    garbage = {"bytes": b"\x89PNG\r\n\x1a\n not really a png", "path": "broken.png"}
    rows[bad_image_row][col] = [garbage] if isinstance(img, list) else garbage
    rows[no_answer_row]["answer"] = None
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), dst)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_bad_rows_are_named_or_counted(name, tmp_path):
    good = load_source(name, FX / f"{name}.parquet", progress=False)
    bad = tmp_path / f"{name}.parquet"; corrupt(FX / f"{name}.parquet", bad, name)
    with pytest.raises((ImageError, RowError)) as e:
        load_source(name, bad, progress=False)
    assert "row 1" in str(e.value) and name in str(e.value), str(e.value)
    skipped = load_source(name, bad, on_error="skip", progress=False)
    assert [s["row"] for s in skipped.skipped] == [1, 2]
    assert "missing 'answer'" in skipped.skipped[1]["error"]
    assert len(skipped) == len(good) - 2
    assert [s.id for s in skipped] == [s.id for i, s in enumerate(good) if i not in (1, 2)]


def test_missing_image_is_an_error(tmp_path):
    t = pq.read_table(FX / "mathvision.parquet"); rows = t.to_pylist(); rows[0]["decoded_image"] = None
    rows[0]["image"] = None
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), tmp_path / "m.parquet")
    with pytest.raises(RowError, match="row 0"):
        load_source("mathvision", tmp_path / "m.parquet", progress=False)


def test_local_copy_forms(tmp_path):
    """A save_to_disk directory and a folder of parquet files load like the single file."""
    from coldstart_nb.data import load_rows
    ds = load_rows(FX / "rl.parquet")
    ds.save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "folder").mkdir(); shutil.copy(FX / "rl.parquet", tmp_path / "folder" / "part-0.parquet")
    ids = [s.id for s in load_source("rl", FX / "rl.parquet", progress=False)]
    assert [s.id for s in load_source("rl", tmp_path / "saved", progress=False)] == ids
    assert [s.id for s in load_source("rl", tmp_path / "folder", progress=False)] == ids
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no data files"):
        load_source("rl", tmp_path / "empty", progress=False)


def test_unknown_source():
    with pytest.raises(KeyError, match="unknown source"):
        load_source("mathvistaa")


def test_real_rows_with_a_bad_gold_are_named():
    """A real We-Math row whose gold letter is not one of its options, and a real MathVerse row with no answer:
    the error names the row and says what is wrong (no silent fix, no silent drop)."""
    import json
    from coldstart_nb.data import convert_mathverse, convert_wemath
    from coldstart_nb.official import placeholder_image
    wm = json.loads((FX / "real" / "We-Math" / "data" / "testmini.json").read_text())[0]
    wm = {**wm, "answer": "G", "image_path": placeholder_image()}
    with pytest.raises(RowError, match=r"wemath row 7 .*answer 'G' is not one of the option letters"):
        convert_wemath(wm, 7)
    mv = json.loads((FX / "real" / "MathVerse" / "data" / "testmini_text_only.json").read_text())[0]
    with pytest.raises(RowError, match=r"mathverse row 3 \(sample_index 1\): missing 'answer'"):
        convert_mathverse({**mv, "answer": " "}, 3)
