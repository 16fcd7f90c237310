"""`apply`: a run's translator on PNG files end to end, tiling of large images, and every
bad input refused with one line, exit 2 and nothing written."""

import os
import re

import numpy as np
import pytest
from PIL import Image

from keras_aegan.apply import run as apply
from keras_aegan.models import translation
from keras_aegan.cli import main
from keras_aegan.errors import UserError
from keras_aegan.training.runner import save_model

TINY = {"width": 4, "blocks": 1}


def run_folder(root, name, model):
    folder = root / name
    folder.mkdir()
    save_model(model, str(folder / "model.keras"))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    sr = translation.build_unet_ae((8, 8, 1), task="super_resolution", factor=2, **TINY)
    inpaint = translation.build_unet_ae((8, 8, 3), task="inpaint", box=4, **TINY)
    return {"sr": (run_folder(root, "sr", sr), sr),
            "inpaint": (run_folder(root, "inpaint", inpaint), inpaint)}


def write_png(path, array):
    pixels = np.round(np.clip(array, 0, 1) * 255).astype("uint8")
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path)
    return path


def read_png(path):
    array = np.asarray(Image.open(path), "float32") / 255.0
    return array[..., None] if array.ndim == 2 else array


def test_super_resolution_of_a_png_end_to_end(runs, digits_images, tmp_path):
    folder, model = runs["sr"]
    small, = model.task.make_input_arrays(digits_images[0][:1])
    small = np.round(small * 255) / 255  # what a PNG holds
    src = write_png(tmp_path / "small.png", small[0])
    code = main(["apply", str(folder), "--input", str(src), "--output",
                 str(tmp_path / "big.png")])
    assert code == 0
    big = read_png(tmp_path / "big.png")
    assert big.shape == (8, 8, 1)  # factor 2
    want = np.asarray(model.translate(small))[0]
    np.testing.assert_allclose(big, want, atol=0.6 / 255)


def test_a_folder_of_images_and_a_large_image_by_tiles(runs, tmp_path):
    folder, model = runs["sr"]
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for i in range(5):
        write_png(tmp_path / "in" / f"d{i}.png", rng.random((4, 4, 1)))
    big = rng.random((37, 50, 1))
    write_png(tmp_path / "in" / "large.png", big)
    result = apply.apply_run(folder, tmp_path / "in", tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == [*(f"d{i}.png" for i in range(5)),
                                                    "large.png"]
    assert read_png(tmp_path / "out" / "large.png").shape == (74, 100, 1)
    assert result.images == 6 and result.tiles > 100
    assert "wrote 6 file(s)" in result.summary()


def test_tiles_blend_back_to_the_whole_image():
    # With a function that only enlarges its tiles, the tiled result is the enlarged image.
    rng = np.random.default_rng(1)
    image = rng.random((23, 31, 2)).astype("float32")

    def enlarge(x):
        return np.repeat(np.repeat(x, 3, axis=1), 3, axis=2)
    out, tiles = apply.run_tiled(enlarge, [image], (8, 8), 3, 2, overlap=3, batch_size=7)
    np.testing.assert_allclose(out, enlarge(image[None])[0], atol=1e-5)
    assert tiles == len(apply.tile_starts(23, 8, 3)) * len(apply.tile_starts(31, 8, 3))
    assert apply.tile_starts(23, 8, 3) == [0, 5, 10, 15]
    window = apply.blend_window(8, 8, 3)
    assert window.min() > 0 and window[4, 4, 0] == 1.0


def test_inpainting_removes_what_the_mask_names_and_keeps_the_rest(runs, tmp_path):
    folder, model = runs["inpaint"]
    rng = np.random.default_rng(2)
    photo = rng.random((20, 24, 3))
    mask = np.zeros((20, 24, 1))
    mask[5:9, 6:12] = 1.0
    write_png(tmp_path / "photo.png", photo)
    write_png(tmp_path / "mask.png", mask)
    result = apply.apply_run(folder, tmp_path / "photo.png", tmp_path / "out.png",
                             mask=tmp_path / "mask.png")
    out = read_png(tmp_path / "out.png")
    kept = mask[..., 0] == 0
    np.testing.assert_allclose(out[kept], read_png(tmp_path / "photo.png")[kept], atol=1 / 255)
    assert 0 < result.tiles < len(apply.tile_starts(20, 8, 2)) * len(apply.tile_starts(24, 8, 2))


@pytest.mark.parametrize("kind", ["eyes", "box"])
def test_a_named_mask_kind_is_drawn_by_the_task_on_each_picture(kind, runs, tmp_path):
    folder, model = runs["inpaint"]
    photo = np.random.default_rng(3).random((20, 24, 3))
    write_png(tmp_path / "face.png", photo)
    assert main(["apply", str(folder), "--input", str(tmp_path / "face.png"), "--output",
                 str(tmp_path / "out.png"), "--mask", kind]) == 0
    image = read_png(tmp_path / "face.png")
    mask = model.task.named_input("mask", kind, image)[..., 0]
    if kind == "eyes":  # the model's 2-row band at 8 rows is 5 rows at 20, at 0.45
        top, bottom = model.task.band_rows(20)
        assert (top, bottom) == (6, 11)
        assert mask[top:bottom].all() and mask.sum() == 5 * 24
    else:  # the model's 4-pixel box at 8 pixels is 10 at 20, placed by the picture
        assert mask.sum() == 100
    out = read_png(tmp_path / "out.png")
    np.testing.assert_allclose(out[mask == 0], image[mask == 0], atol=1 / 255)
    assert np.abs(out[mask == 1] - image[mask == 1]).max() > 2 / 255


@pytest.mark.parametrize("case,match", [
    ("mask_missing", r"nomask\.png: no such mask file or folder, nor a mask kind of this "
                     r"model \(box, strokes, mixed, eyes\)"),
    ("mask_kind_unknown", r"circle: no such mask file .* \(box, strokes, mixed, eyes\)"),
    ("mask_not_image", r"junk\.png: not a readable image"),
    ("mask_not_png", r"mask\.txt: the mask must be a PNG or JPEG file"),
    ("too_small", r"small\.png is 3x3; this model takes images of at least 4x4"),
    ("mask_for_sr", "takes no --mask"),
    ("no_mask", "needs --mask FILE"),
    ("mask_size", r"the mask .*mask\.png is 5x5 but the image .* is 8x8"),
    ("exists", "already exists; pass --overwrite"),
    ("not_png_out", "must be a .png file"),
    ("not_an_image", "not a readable image"),
])
def test_bad_input_one_error_line_exit_2_nothing_written(case, match, runs, tmp_path, capsys):
    sr, _ = runs["sr"]
    inpaint, _ = runs["inpaint"]
    write_png(tmp_path / "small.png", np.zeros((3, 3, 1)))
    write_png(tmp_path / "ok.png", np.zeros((4, 4, 1)))
    write_png(tmp_path / "photo.png", np.zeros((8, 8, 3)))
    write_png(tmp_path / "mask.png", np.zeros((5, 5, 1)))
    (tmp_path / "junk.png").write_bytes(b"not a png")
    out = tmp_path / "out.png"
    args = {
        "too_small": [sr, "small.png"],
        "mask_for_sr": [sr, "ok.png", "--mask", "mask.png"],
        "no_mask": [inpaint, "photo.png"],
        "mask_size": [inpaint, "photo.png", "--mask", "mask.png"],
        "exists": [sr, "ok.png"],
        "not_png_out": [sr, "ok.png"],
        "not_an_image": [sr, "junk.png"],
        "mask_missing": [inpaint, "photo.png", "--mask", "nomask.png"],
        "mask_kind_unknown": [inpaint, "photo.png", "--mask", "circle"],
        "mask_not_image": [inpaint, "photo.png", "--mask", "junk.png"],
        "mask_not_png": [inpaint, "photo.png", "--mask", "mask.txt"],
    }[case]
    (tmp_path / "mask.txt").write_text("white")
    if case == "exists":
        out.write_bytes(b"keep me")
    if case == "not_png_out":
        out = tmp_path / "out.jpg"
    before = sorted(os.listdir(tmp_path))
    argv = ["apply", str(args[0]), "--input", str(tmp_path / args[1]), "--output", str(out)]
    argv += [str(tmp_path / a) if a.endswith((".png", ".txt")) else a for a in args[2:]]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert re.search(match, err[0]), err[0]
    assert sorted(os.listdir(tmp_path)) == before
    if case == "exists":
        assert out.read_bytes() == b"keep me"


def test_an_autoencoder_redraws_a_picture_of_its_size(tmp_path, digits_images):
    from keras_aegan.models.autoencoders import conv_ae

    model = conv_ae((8, 8, 1), 4, filters=(4,))
    folder = run_folder(tmp_path, "ae", model)
    write_png(tmp_path / "x.png", digits_images[0][0])
    result = apply.apply_run(folder, tmp_path / "x.png", tmp_path / "y.png")
    assert result.images == 1 and result.tiles == 0
    image = read_png(tmp_path / "x.png")
    want = np.asarray(model.reconstruct(image[None]))[0]
    np.testing.assert_allclose(read_png(tmp_path / "y.png"), want, atol=0.6 / 255)
    write_png(tmp_path / "big.png", np.zeros((9, 8, 1)))
    with pytest.raises(UserError, match=r"big\.png is 9x8; this model redraws pictures of "
                                        r"exactly 8x8 \(crop and resize yours to it\)"):
        apply.apply_run(folder, tmp_path / "big.png", tmp_path / "z.png")
    with pytest.raises(UserError, match="--mask is for inpainting models"):
        apply.apply_run(folder, tmp_path / "x.png", tmp_path / "z.png", mask="eyes")
    assert not (tmp_path / "z.png").exists()


def test_a_gan_redraws_a_picture_by_latent_search(tmp_path, digits_images):
    from keras_aegan.apply import reconstruct
    from keras_aegan.models.gans import build_dcgan

    model = build_dcgan((8, 8, 1), latent_dim=4, width=4)
    folder = run_folder(tmp_path, "gan", model)
    target = digits_images[0][:1]
    write_png(tmp_path / "x.png", target[0])
    apply.apply_run(folder, tmp_path / "x.png", tmp_path / "y.png")
    found = read_png(tmp_path / "y.png")
    assert found.shape == (8, 8, 1)
    # The search drew nearer the picture than the generator's images of random latents.
    drawn = np.asarray(model.generator(np.random.default_rng(0).standard_normal(
        (64, 4)).astype("float32"), training=False))
    assert ((found - target[0]) ** 2).sum() < ((drawn - target) ** 2).sum(axis=(1, 2, 3)).min()
    assert reconstruct.SEARCH_STEPS >= 100


def test_a_model_apply_cannot_run_is_refused(tmp_path, digits_images):
    from keras_aegan.models.gan_variants import build_cgan

    folder = run_folder(tmp_path, "cgan", build_cgan((8, 8, 1), 4, num_classes=10, width=4))
    write_png(tmp_path / "x.png", digits_images[0][0])
    with pytest.raises(UserError, match=r"apply redraws pictures with an unconditional "
                                        r"generator; this generator also takes label"):
        apply.apply_run(folder, tmp_path / "x.png", tmp_path / "y.png")
    assert not (tmp_path / "y.png").exists()
