"""Tasks: what a model learns to undo or continue, made from clean examples.

A task is an object with one interface (`base.Task`): it makes a model's inputs and
target from a batch of clean examples (`make_inputs`, `make_pair`, `pairs()` for
`tf.data`), declares the ports those inputs fill (`input_ports`, `output_port`), describes
itself as plain data (`describe()` -> `{"name": ..., <options>}`, what manifests and model
configs store; `task_from_description` reads it back), draws its inputs (`display`,
`display_rows`), offers its classical baselines (`baselines`, `baseline`), and checks a
user's input for `apply` (`check_input`).

- `SuperResolution` (`super_resolution`), `Colorize` (`colorize`), `Inpaint` (`inpaint`),
  `Sketch` (`sketch`): image-to-image tasks on images `(H, W, C)`, seeded and pure;
- `NextFrames` (`next_frames`): the next frames of a sequence `(T, H, W, C)`.

A new task is one class with `@register_task` in a module imported here.

Example:
    >>> task = make_task("super_resolution", (28, 28, 1), factor=4)
    >>> small, = task.make_inputs(images)        # (batch, 7, 7, 1)
    >>> ds = dataset.map(task.pairs())            # (small, images) pairs for fit
    >>> task_from_description(task.describe(), (28, 28, 1)) == task
    True
"""

# Imported in the order their names are listed in messages (the registration order).
from keras_aegan.data.tasks.super_resolution import FACTORS, SuperResolution  # isort: skip
from keras_aegan.data.tasks.grey import Colorize, Sketch, edge_map  # isort: skip
from keras_aegan.data.tasks.inpaint import HOLE_SHADE, MASK_KINDS, Inpaint  # isort: skip
from keras_aegan.data.tasks.frames import NextFrames  # isort: skip
from keras_aegan.data.tasks.base import (TASKS, Task, make_task, register_task,  # isort: skip
                                         task_class, task_from_description)
from keras_aegan.data.tasks.image import ImageTask, luminance  # isort: skip

# The image-to-image tasks' names (what a translator's `task=` option takes).
IMAGE_TASK_NAMES = tuple(n for n, c in TASKS.items() if issubclass(c, ImageTask))

__all__ = ["TASKS", "IMAGE_TASK_NAMES", "Task", "ImageTask", "SuperResolution", "Colorize",
           "Inpaint", "Sketch", "NextFrames", "make_task", "register_task", "task_class",
           "task_from_description", "edge_map", "luminance", "FACTORS", "MASK_KINDS",
           "HOLE_SHADE"]
