"""Inputs that cannot stop a run (issue 15 items 4, 6, 7): images checked against the Qwen processor's limits where
they are loaded, placeholder counts, confined image paths, non-UTF-8 files, lazy (streamed) images, and derived image
files that are verified and rewritten when truncated."""
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from coldstart_nb.data import RowError, load_source
from coldstart_nb.images import ImageError, save_image_checked
from conftest import ROOT

FX = ROOT / "data" / "fixtures"


def png_bytes(size=(28, 28), colour=(10, 20, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def rl_parquet(path, images_per_row, problems=None):
    "An RL-schema parquet: row i has the images in images_per_row[i] (bytes) and '<image>' per image."
    rows = [{"images": [{"bytes": b, "path": None} for b in imgs],
             "problem": (problems[i] if problems else "<image>" * len(imgs) + f"What is {i}?"), "answer": str(i)}
            for i, imgs in enumerate(images_per_row)]
    schema = pq.read_schema(FX / "rl.parquet")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_extreme_aspect_ratio_is_refused_at_load_naming_the_row(tmp_path):
    """A 6000x20 image used to pass load_source and crash the processor later ('absolute aspect ratio must be
    smaller than 200') naming no row."""
    p = rl_parquet(tmp_path / "rl.parquet", [[png_bytes()], [png_bytes((6000, 20))], [png_bytes()]])
    with pytest.raises(ImageError, match=r"rl row 1 image 0: .*aspect ratio 300.*200") as e:
        load_source("rl", p, progress=False)
    assert "on_error='skip'" in str(e.value)
    ok = load_source("rl", p, on_error="skip", progress=False)
    assert [s.id for s in ok] == ["rl-0", "rl-2"] and [s["row"] for s in ok.skipped] == [1]


def test_placeholder_count_must_match_the_images(tmp_path):
    p = rl_parquet(tmp_path / "rl.parquet", [[png_bytes()], [png_bytes()]],
                   problems=["<image>one", "<image> and <image>: which is larger?"])
    with pytest.raises(RowError, match=r"rl row 1: 2 '<image>' placeholders but 1 image"):
        load_source("rl", p, progress=False)
    assert [s.id for s in load_source("rl", p, on_error="skip", progress=False)] == ["rl-0"]


def test_non_utf8_data_file_names_the_file(tmp_path):
    f = tmp_path / "latin.jsonl"
    f.write_bytes(json.dumps({"images": [], "problem": "caf\u00e9", "answer": "1"}, ensure_ascii=False).encode("latin-1") + b"\n")
    with pytest.raises(ValueError, match=r"latin\.jsonl.*UTF-8"):
        load_source("rl", f, progress=False)


def test_image_paths_are_confined_to_the_dataset_folder(tmp_path, monkeypatch):
    data = tmp_path / "ds"
    (data / "img").mkdir(parents=True)
    (data / "img" / "a.png").write_bytes(png_bytes((30, 40)))
    (tmp_path / "secret.png").write_bytes(png_bytes())
    monkeypatch.chdir(tmp_path)   # a relative path resolves against the dataset folder, not the working directory

    def write(path_in_row):
        (data / "rows.jsonl").write_text(json.dumps({"images": [path_in_row], "problem": "<image>x?", "answer": "1"}) + "\n")

    write("img/a.png")
    s = load_source("rl", data / "rows.jsonl", progress=False)[0]
    assert s.images[0].size == (30, 40)
    write("../secret.png")
    with pytest.raises(ImageError, match=r"rl row 0 image 0: .*outside the dataset folder.*allow_outside_paths=True"):
        load_source("rl", data / "rows.jsonl", progress=False)
    write(str(tmp_path / "secret.png"))
    with pytest.raises(ImageError, match=r"absolute image path"):
        load_source("rl", data / "rows.jsonl", progress=False)
    assert load_source("rl", data / "rows.jsonl", progress=False, allow_outside_paths=True)[0].images[0].size == (28, 28)


def test_images_are_decoded_only_when_used(tmp_path, monkeypatch):
    """Loading a source and building requests decodes no image; a batch decodes only its own images (flat memory)."""
    from PIL import ImageFile
    from coldstart_nb.generate import requests_from_samples
    p = rl_parquet(tmp_path / "rl.parquet", [[png_bytes((200 + i, 100))] for i in range(6)])
    calls = []
    real = ImageFile.ImageFile.load

    def load(self):
        calls.append(self.size)
        return real(self)
    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    samples = load_source("rl", p, progress=False)
    reqs = requests_from_samples(samples)
    assert calls == [] and len(reqs) == 6 and [len(r.images) for r in reqs] == [1] * 6
    batch = [im for r in reqs[2:4] for im in r.images]
    assert [im.size for im in batch] == [(202, 100), (203, 100)] and len(calls) == 2
    assert all(im.mode == "RGB" for im in batch)
    assert samples[5].to_record()["n_images"] == 1


def test_rl_dataset_streams_images_from_disk(tmp_path, monkeypatch):
    from PIL import ImageFile
    import datasets
    from coldstart_nb.grpo import rl_dataset
    p = rl_parquet(tmp_path / "rl.parquet", [[png_bytes((100 + i, 50))] for i in range(5)])
    calls = []
    real = ImageFile.ImageFile.load

    def load(self):
        calls.append(self.size)
        return real(self)
    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    ds = rl_dataset(f"rl:{p}", limit=4)
    assert calls == [] and len(ds) == 4
    assert isinstance(ds.features["images"].feature, datasets.Image) and ds.cache_files   # on disk, memory-mapped
    row = ds[3]
    assert [im.size for im in row["images"]] == [(103, 50)] and row["answer"] == "3" and set(calls) == {(103, 50)}   # only this row decoded
    assert row["prompt"][-1]["content"][0]["type"] == "image"


def test_derived_image_files_are_verified_and_rewritten(tmp_path):
    img = Image.new("RGB", (64, 48), (1, 2, 3))
    f = tmp_path / "images" / "x-0.png"
    assert save_image_checked(img, f) == "written"
    assert save_image_checked(img, f) == "kept"
    f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])   # a kill mid-write left half a file
    assert save_image_checked(img, f) == "rewritten"
    with Image.open(f) as im:
        im.load()
        assert im.size == (64, 48)
    assert not list(f.parent.glob("*.tmp*"))


def test_rl_dataset_with_no_usable_row_is_an_error(tmp_path):
    """GRPO on an empty dataset used to 'finish' after 0 steps; the data step now says why there is nothing to train on."""
    from coldstart_nb.grpo import rl_dataset
    p = rl_parquet(tmp_path / "rl.parquet", [[png_bytes((6000, 20))]])
    with pytest.raises(ValueError, match=r"no usable rows.*1 skipped.*aspect ratio"):
        rl_dataset(f"rl:{p}", on_error="skip")
