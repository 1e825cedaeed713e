"""Image files as lazy tensor elements: decoded with Pillow when loaded, errors name file and row."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
import torch
from PIL import Image

from mlrpy import DataError, as_lazy_tensor


def write_png(path, pixels: np.ndarray, mode: str | None = None):
    image = Image.fromarray(pixels)
    (image.convert(mode) if mode else image).save(path)
    return path


@pytest.mark.parametrize(("channels", "mode"), [(None, "L"), (3, "RGB"), (4, "RGBA")])
def test_modes_give_their_channels_and_values_in_0_1(tmp_path, channels, mode):
    shape = (5, 7) if channels is None else (5, 7, channels)
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    lt = as_lazy_tensor([write_png(tmp_path / "a.png", pixels)])
    element = lt[0]
    assert element.dtype == torch.float32 and lt.shape == tuple(element.shape)
    assert element.shape == (channels or 1, 5, 7)
    expected = pixels[None] if channels is None else pixels.transpose(2, 0, 1)
    assert torch.allclose(element, torch.from_numpy(expected / 255.0).float())


def test_palette_and_black_and_white_images_are_read_as_rgb_and_grey(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    lt = as_lazy_tensor([write_png(tmp_path / "p.png", pixels, "P"), write_png(tmp_path / "b.png", pixels, "1")])
    assert lt[0].shape == (3, 4, 4) and lt[1].shape == (1, 4, 4)
    assert set(lt[1].unique().tolist()) <= {0.0, 1.0}
    assert lt.shape is None  # the shapes differ


def test_images_of_one_size_stack_and_keep_the_file_order(tmp_path):
    paths = [write_png(tmp_path / f"{i}.png", np.full((3, 2), 50 * i, dtype=np.uint8)) for i in range(4)]
    lt = as_lazy_tensor([str(p) for p in paths])
    assert lt.shape == (1, 3, 2)
    assert lt[[3, 1]].materialize()[:, 0, 0, 0].tolist() == pytest.approx([150 / 255, 50 / 255])


def test_a_missing_file_fails_when_loaded_naming_the_file_and_the_row(tmp_path):
    good = write_png(tmp_path / "good.png", np.zeros((2, 2), dtype=np.uint8))
    lt = as_lazy_tensor([good, tmp_path / "gone.png"])  # construction reads nothing
    assert torch.equal(lt[0], torch.zeros(1, 2, 2))
    with pytest.raises(DataError, match=r"row 1: image file '.*gone\.png' does not exist") as info:
        lt.materialize()
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(DataError, match=r"row 0: image file '.*gone\.png'"):
        lt[[1]].shape


def test_a_file_that_is_not_an_image_names_file_and_row(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(DataError, match=r"row 0: image file '.*notes\.png' cannot be read"):
        as_lazy_tensor([bad])[0]


def test_modes_that_are_not_read_are_named(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.zeros((2, 2), dtype=np.uint16) + 1000).save(path)
    with pytest.raises(DataError, match=r"deep\.png' has mode 'I;16'.*convert the file"):
        as_lazy_tensor([path])[0]


def test_without_pillow_the_message_names_the_extra(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    lt = as_lazy_tensor([tmp_path / "a.png"])
    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match=r"mlrpy\[images\]"):
        lt[0]
