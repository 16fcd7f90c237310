"""Configuration is data: one frozen dataclass per concern, saved as JSON beside its output.

- `DataOptions` (from `keras_aegan.data.options`): where the data comes from and how it is
  shaped (shared by runs and studies).
- `RunConfig(DataOptions)`: one training run (`runs/<name>/config.json`).
- `StudyConfig(DataOptions)`: one comparative study (`runs/<study>/study.json`).

Every default lives here; the CLI reads its defaults from these classes. Configuration is
plain data: this module and what it imports (`registry`, `data.options`, `errors`) use no
TensorFlow.
"""

import dataclasses
import json
import os
import re

from keras_aegan import registry
from keras_aegan.data.options import DataOptions, slug  # noqa: F401  (DataOptions re-exported)
from keras_aegan.errors import UserError, check_int, check_number

# The tf.distribute strategies a run can use (built in `distribute.STRATEGIES`).
STRATEGY_NAMES = ("default", "mirrored", "multiworker", "tpu")
# With a wall-clock budget the epoch count only caps training.
MAX_EPOCHS = 10_000
# A study's models train a fixed amount of work (optimizer steps), so that its verdicts do
# not depend on how fast the machine is; each kind declares its default steps
# (`StudyKind.steps`). A time budget (`budget_seconds`) asks another question: who gets
# good faster on this machine.
DEFAULT_BUDGET_SECONDS = 60.0
DEFAULT_STUDY_MODELS = ("conv_ae", "vae", "dcgan", "pca")


def check_name(name):
    """A run or study folder name: letters, digits, `.`, `_`, `-` (or `None`)."""
    if name is not None and not (isinstance(name, str) and re.fullmatch(r"[\w.\-]+", name)):
        raise UserError(f"name must be letters, digits, '.', '_' or '-', got {name!r}")
    return name


@dataclasses.dataclass(frozen=True)
class RunConfig(DataOptions):
    """Everything that defines a training run; saved as `config.json` in the run folder.

    The data fields (`dataset`, `image_shape`, `crop`, `data_dir`, `download`,
    `manual_dir`, `validation_fraction`) are those of `keras_aegan.data.DataOptions`.

    Attributes:
        model: a registered model name (see `keras_aegan.registry.model_names()`).
        epochs: passes over the training split (with `budget_seconds`, at most).
        budget_seconds: stop after this many seconds of training (a resumed run counts
            the seconds it had spent); `None`: train for `epochs`.
        batch_size: images per training step; `None`: the model's own (its registry
            entry's `batch_size`).
        latent_dim: size of the code / latent noise.
        seed: seeds Python, NumPy, TensorFlow and Keras, and the shuffling.
        learning_rate: optimizer learning rate; `None` keeps the model's default.
        anneal: cosine-anneal the learning rate(s) to 0 over the run (its `epochs`, or its
            `budget_seconds` when that ends it first; see `schedules.CosineAnneal`); `None`:
            the family's default: on for autoencoders, off for GANs (their adversarial
            balance is tuned at constant rates).
        steps_per_epoch: cap the steps of each epoch (`None`: the whole split).
        run_dir: parent folder of run folders.
        name: run folder name; defaults to `<model>-<dataset>`.
        checkpoint_every: steps between checkpoints (each epoch end checkpoints too).
        grid_seconds: the least training time between two progress grids
            (`images/epoch_NNN.png`; the last epoch always gets one); 0: every epoch;
            `None`: no grids.
        deterministic: enable TensorFlow op determinism, for bitwise-repeatable runs.
        strategy: `tf.distribute` strategy: `default` (one device), `mirrored` (the GPUs or
            CPUs of this machine), `multiworker` (machines listed in `TF_CONFIG`) or `tpu`.
            `batch_size` is the global batch, split over the replicas.
        model_options: extra keyword arguments of the model's builder, e.g.
            `{"beta": 4.0}` for `vae` or `{"d_steps": 5}` for `wgan_gp`.
    """

    model: str = "conv_ae"
    epochs: int = 10
    budget_seconds: float | None = None
    batch_size: int | None = None
    latent_dim: int = 16
    seed: int = 0
    learning_rate: float | None = None
    anneal: bool | None = None
    steps_per_epoch: int | None = None
    run_dir: str = "runs"
    name: str | None = None
    checkpoint_every: int = 100
    grid_seconds: float | None = 10.0
    deterministic: bool = False
    strategy: str = "default"
    model_options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        if self.batch_size is None:  # frozen: set once, here
            own = registry.get_model_entry(self.model).batch_size
            object.__setattr__(self, "batch_size", own)
        for field in ("epochs", "batch_size", "latent_dim", "checkpoint_every"):
            check_int(field, getattr(self, field), minimum=1)
        check_int("seed", self.seed, minimum=0)
        if self.steps_per_epoch is not None:
            check_int("steps_per_epoch", self.steps_per_epoch, minimum=1)
        if self.learning_rate is not None:
            check_number("learning_rate", self.learning_rate, 0, 10, low_open=True,
                         high_open=True)
        if self.anneal not in (None, True, False):
            raise UserError(f"anneal must be true, false or null, got {self.anneal!r}")
        if self.grid_seconds is not None:
            check_number("grid_seconds", self.grid_seconds, 0)
        if self.budget_seconds is not None:
            check_number("budget_seconds", self.budget_seconds, 0, 10**7, low_open=True,
                         high_open=True)
        if self.strategy not in STRATEGY_NAMES:
            raise UserError(f"unknown strategy {self.strategy!r}; choose from "
                            f"{', '.join(STRATEGY_NAMES)}")
        check_name(self.name)

    @property
    def run_name(self):
        if self.name:
            return self.name
        return f"{self.model}-{slug(self.dataset)}"

    @property
    def path(self):
        return os.path.join(self.run_dir, self.run_name)

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def load(cls, path):
        """Read `config.json` from a run folder (or the file itself)."""
        if os.path.isdir(path):
            path = os.path.join(path, "config.json")
        with open(path) as f:
            values = json.load(f)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclasses.dataclass(frozen=True)
class StudyConfig(DataOptions):
    """One study; saved as `study.json` in its folder.

    The data fields (`dataset`, `image_shape`, `crop`, `data_dir`, `download`,
    `manual_dir`, `validation_fraction`) are those of `keras_aegan.data.DataOptions`; a
    study's default dataset is the bundled `mnist10k` (real 28x28 digits, offline).

    Attributes:
        task: the study kind (`keras_aegan.studies.kinds`): `None` for the image study
            (samples, reconstruction, codes), or the name of another kind (a use of the
            two families compared on the same job, with its own metrics and baselines).
        task_options: options of the task (e.g. `{"factor": 4}`).
        models: registered model names and baselines (`pca`; a task's own baselines);
            `None`: the study's (or the task's) default models.
        steps: budget in optimizer steps per model (whole epochs of at most a pass over
            the training split each, together about `steps`: see
            `runner.for_steps`); or
        epochs: budget in epochs per model; or
        budget_seconds: budget in wall-clock training seconds per model. Give at most one
            budget; with none, the kind's default steps (`StudyKind.steps`).
        seeds: each model is trained and evaluated once per seed; tables give mean ± std.
        batch_size: images per step, for every model; `None`: each model's own (see
            `RunConfig.batch_size`).
        latent_dim: shared by every model.
        eval_samples: generated and real test images compared per model.
        train_images: training images loaded for the evaluation (code Gaussians, probes,
            memorisation).
        probe_train, probe_test: images the linear / k-NN probes train and test on.
        reconstruct_images: test images each model reconstructs.
        timeline_points: how many times each model's sample quality (and reconstruction)
            is measured while it trains, for the quality-against-time plot.
        member_grids: write each model's progress grids in its run folder, as single runs
            do (the report has its own pictures).
        export: export each model's parts to `<export_dir>/<study>/`.
        export_dir: parent folder of study exports.
        run_dir, name: the study writes `<run_dir>/<name>/`.
    """

    dataset: str = "mnist10k"
    task: str | None = None
    task_options: dict = dataclasses.field(default_factory=dict)
    models: tuple | None = None
    steps: int | None = None
    epochs: int | None = None
    budget_seconds: float | None = None
    seeds: tuple = (0,)
    batch_size: int | None = None
    latent_dim: int = 16
    eval_samples: int = 1000
    train_images: int = 20000
    probe_train: int = 2000
    probe_test: int = 1000
    reconstruct_images: int = 128
    timeline_points: int = 4
    member_grids: bool = False
    export: bool = True
    export_dir: str = "export"
    run_dir: str = "runs"
    name: str | None = None

    def __post_init__(self):
        super().__post_init__()
        kind = self.kind  # an unknown kind fails here
        baselines = kind.baselines
        if self.models is None:
            object.__setattr__(self, "models", kind.models)
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if not self.models:
            raise UserError("a study needs at least one model")
        known = [*registry.model_names(), *baselines]
        for name in self.models:
            if name not in known:
                raise UserError(f"unknown model {name!r} in the study; known: "
                                f"{', '.join(sorted(known))}")
        if len(set(self.models)) != len(self.models):
            raise UserError(f"models listed twice: {', '.join(self.models)}")
        budgets = [b for b in ("steps", "epochs", "budget_seconds")
                   if getattr(self, b) is not None]
        if len(budgets) > 1:
            raise UserError("give the study one budget: steps, epochs or budget_seconds, "
                            f"not {' and '.join(budgets)}")
        if not budgets and kind.steps:
            object.__setattr__(self, "steps", kind.steps)
        elif not budgets:  # a kind with no default work trains for a time
            object.__setattr__(self, "budget_seconds", DEFAULT_BUDGET_SECONDS)
        if self.steps is not None:
            check_int("steps", self.steps)
        if self.epochs is not None:
            check_int("epochs", self.epochs)
        if self.budget_seconds is not None:
            check_number("budget_seconds", self.budget_seconds, 0, 10**7, low_open=True,
                         high_open=True)
        for seed in self.seeds:
            check_int("seed", seed, minimum=0)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise UserError(f"seeds must be distinct, got {self.seeds}")
        check_int("eval_samples", self.eval_samples, minimum=10)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size)
        for field in ("latent_dim", "train_images", "probe_train", "probe_test",
                      "reconstruct_images", "timeline_points"):
            check_int(field, getattr(self, field))
        check_name(self.name)

    @property
    def kind(self):
        """The study kind (`keras_aegan.studies.kinds`) `task` names; without one, the kind
        that claims the dataset (`faces` for `--dataset faces`), else the image study."""
        from keras_aegan.studies.kinds import get_study_kind, kind_for_dataset

        return get_study_kind(self.task or kind_for_dataset(self.dataset))

    @property
    def study_name(self):
        from keras_aegan.studies.kinds import kind_for_dataset

        # The task is in the name unless the data alone picks it (`--dataset faces`).
        task = f"{self.task}-" if self.task and self.task != kind_for_dataset(
            self.dataset) else ""
        return self.name or f"study-{task}{slug(self.dataset)}"

    @property
    def path(self):
        return os.path.join(self.run_dir, self.study_name)

    @property
    def budget_text(self):
        if self.steps:
            return f"{self.steps:,} steps"
        return f"{self.epochs} epochs" if self.epochs else f"{self.budget_seconds:g} s"

    def run_config(self, model, seed):
        """The `RunConfig` of one model of the study."""
        return RunConfig(
            **dataclasses.asdict(self.data_options()), model=model,
            epochs=self.epochs or (1 if self.steps else MAX_EPOCHS),
            budget_seconds=self.budget_seconds,
            batch_size=self.batch_size, latent_dim=self.latent_dim, seed=seed,
            grid_seconds=RunConfig.grid_seconds if self.member_grids else None,
            run_dir=os.path.join(self.path, "models"), name=f"{model}-seed{seed}")
