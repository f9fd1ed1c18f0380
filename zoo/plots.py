"""Pictures of samples: an image grid, a scatter against the real data, or series by class."""

import math
import pathlib
import textwrap

import numpy as np


def image_grid(images, columns=None, padding=2):
    """Tiles (N, H, W, C) images in [-1, 1] into one uint8 (rows*H, cols*W, C) array."""
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(f"image_grid expects (N, H, W, C) images, got shape {images.shape}.")
    n, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    pixels = np.clip((images + 1.0) * 127.5, 0, 255).astype("uint8")
    grid = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        255,
        dtype="uint8",
    )
    for index, image in enumerate(pixels):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[top: top + height, left: left + width] = image
    return grid


def save_image_grid(images, path, scale=2, columns=None):
    """Writes `image_grid(images, columns)` to a PNG, each pixel `scale` x `scale` for legibility."""
    import tensorflow as tf

    grid = image_grid(images, columns).repeat(scale, axis=0).repeat(scale, axis=1)
    tf.io.write_file(str(path), tf.io.encode_png(grid))


def save_scatter(samples, path, real=None, title=None):
    """Scatter of the first two coordinates of `samples`, over `real` points in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = np.asarray(samples).reshape(len(samples), -1)
    labelled = samples.shape[1] > 2
    title = textwrap.fill(title, 48) if title else None  # wrapped to stay inside the 5-inch figure
    # A 2-D run draws one of these every epoch, so the figure is kept cheap: fixed margins (room for
    # the title's lines and the axis labels) instead of `tight_layout`, which draws the whole figure
    # once more before `savefig` draws it again, and markers of a line instead of a scatter's
    # per-point paths. Together they halve the drawing time.
    top = 0.97 - (0.045 * (title.count("\n") + 1) if title else 0.0)
    bottom = 0.11 if labelled else 0.07
    figure = plt.figure(figsize=(5, 5), dpi=100)
    axes = figure.add_axes((0.12, bottom, 0.85, top - bottom))
    marker = {"linestyle": "none", "marker": "o", "markersize": 2, "markeredgewidth": 0}
    if real is not None:
        real = np.asarray(real).reshape(len(real), -1)
        axes.plot(real[:, 0], real[:, 1], color="0.7", label="real", **marker)
    axes.plot(samples[:, 0], samples[:, 1], color="tab:red", label="generated", **marker)
    axes.set_aspect("equal", adjustable="datalim")
    axes.legend(loc="upper right", fontsize=8, markerscale=3)
    if labelled:
        axes.set_xlabel("coordinate 0")
        axes.set_ylabel("coordinate 1")
    if title:
        axes.set_title(title, fontsize=10)
    figure.savefig(path)
    plt.close(figure)


def _save_figure(figure, path, title=None, width=70):
    """Titles (wrapped to `width` characters), lays out, writes and closes a matplotlib figure."""
    import matplotlib.pyplot as plt

    if title:
        figure.suptitle(textwrap.fill(title, width), fontsize=10)
    figure.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def save_series(samples, path, labels=None, real=None, real_labels=None, class_names=None, title=None,
                per_panel=8):
    """Series (N, steps, features) as lines: one row of panels per class (or one row without
    `labels`), generated series on the left, `real` ones of the same class on the right.

    `per_panel` series are drawn in each panel; of multi-feature series, feature 0 (the title
    says so). Seed 003's Figure 13 draws the generated waves this way.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = np.asarray(samples, "float32")
    if samples.ndim != 3:
        raise ValueError(f"save_series expects series of shape (N, steps, features), got {samples.shape}.")
    labels = np.zeros(len(samples), "int32") if labels is None else np.asarray(labels)
    classes = np.unique(labels)
    has_real = real is not None
    if has_real:
        real = np.asarray(real, "float32")
        real_labels = np.zeros(len(real), "int32") if real_labels is None else np.asarray(real_labels)
    figure, axes = plt.subplots(len(classes), 2 if has_real else 1, figsize=(8 if has_real else 4.5, 2.2 * len(classes)),
                                dpi=100, squeeze=False, sharex=True, sharey=True)
    for row, label in enumerate(classes):
        name = class_names[label] if class_names is not None else f"class {label}"
        panels = [("generated", samples[labels == label], "tab:red")]
        if has_real:
            panels.append(("real", real[real_labels == label], "0.35"))
        for column, (kind, series, colour) in enumerate(panels):
            ax = axes[row, column]
            for one in series[:per_panel]:
                ax.plot(one[:, 0], color=colour, linewidth=0.9, alpha=0.8)
            ax.set_title(f"{kind}: {name}" if len(classes) > 1 or labels.any() else kind, fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("step")
    suffix = f" (feature 0 of {samples.shape[-1]})" if samples.shape[-1] > 1 else ""
    _save_figure(figure, path, ((title or "") + suffix) or None)


def save_series_lattice(series, rows, columns, path, title=None):
    """Series (rows * columns, steps, features), one small panel each, row by row: a walk over a
    2-D lattice of codes (seed 003's Figure 14). Feature 0 of each series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = np.asarray(series, "float32")
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.0 * rows), dpi=100, squeeze=False,
                                sharex=True, sharey=True)
    for index, ax in enumerate(axes.ravel()):
        ax.plot(series[index, :, 0], color="tab:blue", linewidth=0.9)
        ax.set_xticks([])
        ax.set_yticks([])
    _save_figure(figure, path, title, width=90)


def save_table_columns(samples, real, path, categorical=(), title=None):
    """One panel per column of two DataFrames: overlaid histograms of a continuous column,
    side-by-side category frequencies of a categorical one; generated in red, real in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = list(real.columns)
    across = min(4, len(columns))
    down = math.ceil(len(columns) / across)
    figure, axes = plt.subplots(down, across, figsize=(3.2 * across, 2.4 * down), dpi=100, squeeze=False)
    for ax, column in zip(axes.ravel(), columns):
        if column in categorical:
            categories = sorted(set(real[column].tolist()) | set(samples[column].tolist()), key=str)
            positions = np.arange(len(categories))
            for offset, (frame, colour, kind) in enumerate(((samples, "tab:red", "generated"), (real, "0.5", "real"))):
                share = frame[column].value_counts(normalize=True)
                ax.bar(positions + 0.4 * offset - 0.2, [share.get(c, 0.0) for c in categories], width=0.4,
                       color=colour, label=kind)
            ax.set_xticks(positions, [str(c) for c in categories], fontsize=7, rotation=90 if len(categories) > 6 else 0)
        else:
            values = np.concatenate([real[column].to_numpy(float), samples[column].to_numpy(float)])
            bins = np.linspace(np.percentile(values, 0.5), np.percentile(values, 99.5), 30)
            ax.hist(real[column].to_numpy(float), bins=bins, density=True, color="0.5", alpha=0.6, label="real")
            ax.hist(samples[column].to_numpy(float), bins=bins, density=True, histtype="step", color="tab:red",
                    linewidth=1.5, label="generated")
        ax.set_title(str(column), fontsize=9)
        ax.set_yticks([])
    for ax in axes.ravel()[len(columns):]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=7)
    _save_figure(figure, path, title, width=90)


def save_samples_png(samples, path, real=None, title=None, labels=None, real_labels=None):
    """An image grid for (N, H, W, C) samples, series by class for (N, steps, features), a
    scatter for vectors."""
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    if np.ndim(samples) == 4:
        save_image_grid(samples, path)
    elif np.ndim(samples) == 3:
        save_series(samples, path, labels=labels, real=real, real_labels=real_labels, title=title)
    else:
        save_scatter(samples, path, real=real, title=title)


def save_code_scatter(codes, labels, prior_codes, path, title=None):
    """Two panels: 2-D codes coloured by label, beside draws from the prior (Makhzani et al., Figure 11)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    codes, prior_codes = np.asarray(codes), np.asarray(prior_codes)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 5), dpi=100)
    points = left.scatter(codes[:, 0], codes[:, 1], s=3, c=labels, cmap="tab10", vmin=-0.5, vmax=9.5)
    figure.colorbar(points, ax=left, ticks=range(10), label="label")
    left.set_title(title or "codes of the validation set")
    right.scatter(prior_codes[:, 0], prior_codes[:, 1], s=3, c="0.4")
    right.set_title("samples of the prior")
    # One scale for both panels, so the codes' spread compares with the prior's.
    low, high = np.minimum(codes.min(0), prior_codes.min(0)), np.maximum(codes.max(0), prior_codes.max(0))
    for axes in (left, right):
        axes.set_xlim(low[0], high[0])
        axes.set_ylim(low[1], high[1])
        axes.set_aspect("equal", adjustable="box")
    figure.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def code_lattice(low, high, steps):
    """A steps x steps lattice of 2-D codes over [low, high]^2, row by row from the top left."""
    ticks = np.linspace(low, high, steps, dtype="float32")
    return np.array([(x, y) for y in ticks[::-1] for x in ticks], dtype="float32")


def linear_path(start, end, steps):
    """`steps` points from `start` to `end`, both included."""
    weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return (1.0 - weights) * np.asarray(start, "float32") + weights * np.asarray(end, "float32")
