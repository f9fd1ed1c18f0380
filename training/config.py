"""`TrainConfig`: the one description of a training run, and the named recipes.

The `ganzoo train` flags parse into it, `training.run.train` takes it, run.json
records it, and the benchmarks build from it. A recipe is a `TrainConfig`
shipped as JSON in training/recipes/ (`ganzoo recipes` lists them): the
configurations behind the published figures, each reproducible with
`ganzoo train --recipe NAME`.

    >>> from keras_gan_zoo.training.config import TrainConfig, load_recipe
    >>> recipe = load_recipe("packed_critic_grid25")
    >>> recipe.model, recipe.data, recipe.total_steps(), recipe.sampling.rejection_steps
    ('gan', 'grid25', 20000, 200000)
    >>> TrainConfig.from_dict({"model": "gan", "data": "ring8", "epoch": 3})
    Traceback (most recent call last):
    ...
    ValueError: Unknown TrainConfig field 'epoch'; the fields are: model, data, model_options, ...
"""

import dataclasses
import json
import pathlib

RECIPES_DIR = pathlib.Path(__file__).with_name("recipes")
SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """One player's optimizer: the model's default (its paper's), at `learning_rate` when given,
    decayed by `schedule` ("constant", or "cosine" to 0 over the run)."""

    learning_rate: float | None = None
    schedule: str = "constant"

    def build(self, default_optimizer, total_steps):
        import keras

        config = default_optimizer.get_config()
        rate = self.learning_rate if self.learning_rate is not None else config["learning_rate"]
        if self.schedule == "cosine":
            rate = keras.optimizers.schedules.CosineDecay(rate, total_steps)
        config["learning_rate"] = rate
        return type(default_optimizer).from_config(config)


@dataclasses.dataclass(frozen=True)
class SamplingConfig:
    """How the trained model samples: directly, or through discriminator rejection sampling
    (`zoo.sampling`) with a ratio classifier fitted for `rejection_steps` steps."""

    rejection_steps: int = 0
    ratio_hidden_units: tuple = (256, 256)
    fourier_features: tuple | None = None
    gamma: float = 0.0
    max_quantile: float = 1.0


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """A training run.

    Attributes:
        model: a registered variant (`ganzoo list`).
        data: a dataset name (`zoo.data`).
        model_options: constructor options over the registry's defaults.
        optimizers: `{player: OptimizerConfig}` by the model's compile keywords
            (`g_optimizer`, `d_optimizer`, `optimizer`).
        batch_size: the global batch; None takes 100 for vectors, 32 for images.
        epochs, steps_per_epoch: the length; steps_per_epoch None is one pass over the data.
        seed: seeds the model, the data order and the noise.
        sampling: `SamplingConfig`.
        xla: True, False, or "auto": on where TensorFlow sees a GPU, off on CPUs, where
            XLA made training slower (docs/results/scaling.md).
        mixed_precision, strategy, devices, backup_every_steps, data_dir:
            how and where it runs (see `ganzoo train --help`).
        steps_per_execution: training steps per call of the compiled step; None chooses
            (`training.run.steps_per_execution_of`).
        categorical: the categorical columns of a CSV table (`data="csv:PATH"`).
        from_preset: a pretrained preset (`zoo.pretrained`) to start from instead of fresh
            weights: fine-tuning, with fresh optimizers.
        freeze: networks whose body (every layer but the last with weights) stays fixed
            ("discriminator", "encoder", ...; `GenerativeModel.freeze_body`).
    """

    model: str
    data: str
    model_options: dict = dataclasses.field(default_factory=dict)
    optimizers: dict = dataclasses.field(default_factory=dict)
    batch_size: int | None = None
    epochs: int = 10
    steps_per_epoch: int | None = None
    seed: int = 0
    sampling: SamplingConfig = SamplingConfig()
    xla: bool | str = "auto"
    mixed_precision: bool = False
    strategy: str = "auto"
    devices: tuple | None = None
    backup_every_steps: int | None = None
    steps_per_execution: int | None = None
    data_dir: str | None = None
    categorical: tuple = ()
    from_preset: str | None = None
    freeze: tuple = ()

    def __post_init__(self):
        if self.categorical and not self.data.startswith("csv:"):
            raise ValueError(f"--categorical names the categorical columns of a CSV table (--data csv:PATH); "
                             f"{self.data} says its own.")
        for name, value, least in (("epochs", self.epochs, 1), ("batch_size", self.batch_size, 1),
                                   ("steps_per_epoch", self.steps_per_epoch, 1),
                                   ("backup_every_steps", self.backup_every_steps, 1),
                                   ("steps_per_execution", self.steps_per_execution, 1),
                                   ("rejection_steps", self.sampling.rejection_steps, 0)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}.")
        if self.xla not in (True, False, "auto"):
            raise ValueError(f"xla must be true, false or \"auto\", got {self.xla!r}.")
        for player, optimizer in self.optimizers.items():
            if optimizer.schedule not in SCHEDULES:
                raise ValueError(f"The {player} schedule must be one of {', '.join(SCHEDULES)}, "
                                 f"got {optimizer.schedule!r}.")

    def uses_xla(self):
        """Whether the train step is compiled by XLA: `xla`, or with "auto" whether a GPU is visible."""
        if self.xla == "auto":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
        return bool(self.xla)

    def total_steps(self, steps_per_epoch=None):
        """Optimizer steps over the run (`steps_per_epoch` when the config leaves it to the data)."""
        return self.epochs * (self.steps_per_epoch or steps_per_epoch)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields):
        fields = dict(fields)
        known = [f.name for f in dataclasses.fields(cls)]
        for name in fields:
            if name not in known:
                raise ValueError(f"Unknown TrainConfig field {name!r}; the fields are: {', '.join(known)}.")
        sampling = dict(fields.pop("sampling", None) or {})
        for name in sampling:
            if name not in {f.name for f in dataclasses.fields(SamplingConfig)}:
                raise ValueError(f"Unknown sampling option {name!r} in the config.")
        for key in ("ratio_hidden_units", "fourier_features"):
            if sampling.get(key) is not None:
                sampling[key] = tuple(sampling[key])
        optimizers = {player: OptimizerConfig(**options)
                      for player, options in (fields.pop("optimizers", None) or {}).items()}
        if fields.get("devices") is not None:
            fields["devices"] = tuple(fields["devices"])
        fields["categorical"] = tuple(fields.get("categorical") or ())
        fields["freeze"] = tuple(fields.get("freeze") or ())
        return cls(**fields, sampling=SamplingConfig(**sampling), optimizers=optimizers)


def recipe_names():
    """The shipped recipes' names, sorted."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.json"))


def load_recipe(name_or_path):
    """A shipped recipe by name, or a recipe file (`path.json`), as a `TrainConfig`."""
    path = pathlib.Path(name_or_path)
    if path.suffix != ".json":
        path = RECIPES_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise ValueError(f"Unknown recipe {name_or_path!r}; the shipped ones are: {', '.join(recipe_names())} "
                             "(or give a recipe file, path.json).")
    elif not path.exists():
        raise ValueError(f"The recipe file {path} does not exist.")
    try:
        fields = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"The recipe file {path} is not valid JSON: {error}.") from error
    fields.pop("description", None)
    return TrainConfig.from_dict(fields)


def recipe_description(name):
    """The one-line description a shipped recipe carries."""
    return json.loads((RECIPES_DIR / f"{name}.json").read_text()).get("description", "")
