"""Picture helpers: image grids (skimage's montage) and the machine's available memory."""

import numpy as np
import psutil
from PIL import Image

from keras_aegan.training import runner
from keras_aegan.evaluation.pictures import image_grid, save_grid


def test_grid_places_each_image_between_white_borders_and_pads_short_rows():
    a = np.full((2, 3, 2, 1), 0.25, "float32")
    b = np.full((1, 3, 2, 1), 0.5, "float32")
    grid = image_grid([a, [b[0] * 2 - 1.5]], padding=1)  # the second row is clipped to 0
    assert grid.shape == (2 * (3 + 1) + 1, 2 * (2 + 1) + 1, 1)
    assert np.all(grid[1:4, 1:3] == 0.25) and np.all(grid[1:4, 4:6] == 0.25)
    assert np.all(grid[5:8, 1:3] == 0.0)
    assert np.all(grid[5:8, 4:6] == 1.0)  # the missing cell is blank
    assert np.all(grid[0] == 1.0) and np.all(grid[:, 0] == 1.0) and np.all(grid[4] == 1.0)


def test_saved_grid_is_upscaled_and_labelled(tmp_path):
    rows = [np.zeros((3, 8, 8, 3), "float32"), np.ones((2, 8, 8, 3), "float32")]
    plain = Image.open(save_grid(str(tmp_path / "plain.png"), rows, min_cell=16))
    assert plain.size == ((3 * 9 + 1) * 2, (2 * 9 + 1) * 2)
    labelled = Image.open(save_grid(str(tmp_path / "labelled.png"), rows, min_cell=16,
                                    labels=["real", "fake"]))
    assert labelled.size[1] == plain.size[1] and labelled.size[0] > plain.size[0]


def test_available_memory_is_what_psutil_reports():
    available = runner._available_memory()
    assert 0 < available <= psutil.virtual_memory().total
