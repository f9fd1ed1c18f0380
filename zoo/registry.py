"""Model names, their classes, one-line descriptions and default configs."""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one variant.

    Attributes:
        name: the name users type (`zoo.create("dcgan")`, `ganzoo train dcgan`).
        cls: the `keras.Model` subclass.
        description: one line for `ganzoo list`.
        defaults: the config `zoo.create(name)` builds with (paper sizes, scaled
            to train on a CPU).
        tiny: overrides giving a network small enough for the common test base.
        data_kinds: the kinds of data the variant trains on ("image", "vector").
        aliases: other names that create the same variant (e.g. "ali" for "bigan").
        tiny_options: further overrides of `tiny`, each a case of the common
            test base of its own: the configs that change what the variant
            offers or how it trains (conditional, clusters, ...).
    """

    name: str
    cls: type
    description: str
    defaults: dict
    tiny: dict
    data_kinds: tuple
    aliases: tuple = ()
    tiny_options: tuple = ()

    def cases(self):
        """`[(name, config overrides)]`: the tiny config, then each of `tiny_options`."""
        return [(self.name, {})] + [(self.name, dict(options)) for options in self.tiny_options]


_ENTRIES = {}
_ALIASES = {}


def register(name, description, defaults, tiny, data_kinds=("image", "vector"), aliases=(), tiny_options=()):
    """Class decorator: makes a variant serializable and creatable by name."""

    def decorator(cls):
        for key in (name, *aliases):
            if key in _ENTRIES or key in _ALIASES:
                raise ValueError(f"A model named {key!r} is already registered.")
        cls = keras.saving.register_keras_serializable(package="keras_gan_zoo")(cls)
        cls.registered_name = name
        _ENTRIES[name] = ModelEntry(
            name, cls, description, dict(defaults), dict(tiny), tuple(data_kinds), tuple(aliases),
            tuple(dict(options) for options in tiny_options),
        )
        _ALIASES.update({alias: name for alias in aliases})
        return cls

    return decorator


def get_entry(name):
    """Returns the `ModelEntry` for `name` or one of its aliases, or says which names exist."""
    name = _ALIASES.get(name, name)
    if name not in _ENTRIES:
        aliases = f" (aliases: {', '.join(sorted(_ALIASES))})" if _ALIASES else ""
        raise ValueError(
            f"Unknown model {name!r}. Valid names: {', '.join(list_models())}{aliases}."
        )
    return _ENTRIES[name]


def all_cases():
    """Every registered variant's `(name, config overrides)` cases, for the common test base."""
    return [case for name in list_models() for case in _ENTRIES[name].cases()]


def list_models():
    """The registered variant names, sorted."""
    return sorted(_ENTRIES)


def describe_models():
    """`{name: one-line description}` for every registered variant, aliases named."""
    descriptions = {}
    for name in list_models():
        entry = _ENTRIES[name]
        also = f" (also: {', '.join(entry.aliases)})" if entry.aliases else ""
        descriptions[name] = entry.description + also
    return descriptions


def offers(name):
    """What a variant offers, as `[(config overrides, capabilities)]`: the default offer first
    (`{}`), then each tiny option that offers more (its capabilities beyond the default).

    Read from tiny builds of the variant itself, so it cannot disagree with its declaration.

    Example:
        >>> import keras_gan_zoo as zoo
        >>> [(options, sorted(extra)) for options, extra in zoo.registry.offers("wgan_gp")]
        [({}, ['sample']), ({'conditional': True, 'num_classes': 3}, ['generate_labelled', 'labelled_sample'])]
    """
    entry = get_entry(name)
    offered = []
    for _, options in entry.cases():
        capabilities = entry.cls(**{**entry.defaults, **entry.tiny, **options}).capabilities
        if not offered:
            offered.append(({}, frozenset(capabilities)))
        elif set(capabilities) - offered[0][1]:
            offered.append((options, frozenset(capabilities) - offered[0][1]))
    return offered


def import_variants(package_name, package_path):
    """Imports every module of a variants package, each registering its variant; returns
    `{class name: class}` of the variants registered from that package.

    So that adding a variant is adding its file: no list of modules to extend.
    """
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(package_path):
        importlib.import_module(f"{package_name}.{module.name}")
    return {entry.cls.__name__: entry.cls for entry in _ENTRIES.values()
            if entry.cls.__module__.startswith(package_name + ".")}


def create(name, **config):
    """Builds a registered variant from its default config updated with `config`.

    Example:
        >>> import keras_gan_zoo as zoo
        >>> gan = zoo.create("gan", data_shape=(2,), latent_dim=4)
        >>> gan.sample(3, seed=0).shape
        (3, 2)
    """
    entry = get_entry(name)
    return entry.cls(**{**entry.defaults, **config})
