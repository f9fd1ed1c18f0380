"""The `ganzoo` command: train, list, sample, resume, and its error messages."""

import json
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_gan_zoo as zoo
from keras_gan_zoo.training import callbacks, cli, run
from keras_gan_zoo.training.config import RECIPES_DIR, TrainConfig, recipe_names

STEPS = 5


def train_args(out, *extra):
    return ["train", "gan", "--data", "ring8", "--epochs", "2", "--steps-per-epoch", str(STEPS), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "gan-ring8"
    assert cli.main(train_args(out)) == 0
    return out


def test_train_writes_model_pictures_logs_and_arguments(finished_run):
    assert (finished_run / "model.keras").is_file()
    for epoch in (1, 2):
        png = finished_run / "samples" / f"epoch_{epoch:03d}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any((finished_run / "logs").rglob("events.out.tfevents.*"))
    assert json.loads((finished_run / "run.json").read_text())["data"] == "ring8"
    # A finished run leaves no backup behind to resume from.
    assert not (finished_run / "backup").exists()


def test_model_loads_in_a_new_process_with_the_same_samples(finished_run, tmp_path):
    in_process = tmp_path / "here.npy"
    assert cli.main(["sample", str(finished_run), "--n", "16", "--seed", "7", "--out", str(in_process)]) == 0
    script = (
        "import sys, numpy as np, keras, keras_gan_zoo;"
        "m = keras.models.load_model(sys.argv[1]);"
        "np.save(sys.argv[2], m.sample(16, seed=7))"
    )
    other = tmp_path / "there.npy"
    subprocess.run(
        [sys.executable, "-c", script, str(finished_run / "model.keras"), str(other)],
        check=True, capture_output=True,
    )
    np.testing.assert_array_equal(np.load(in_process), np.load(other))


def test_sample_writes_a_png(finished_run, tmp_path):
    out = tmp_path / "samples.png"
    assert cli.main(["sample", str(finished_run), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_list_shows_every_model_with_a_description_and_what_it_offers(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.strip("\n").splitlines()
    described = {line.split()[0]: line for line in lines[0::2]}
    assert list(described) == zoo.list_models()
    assert {"autoencoder", "dcgan", "gan", "vae", "wgan", "wgan_gp"} <= set(described)
    assert all(len(line.split()) > 3 for line in described.values())
    offers = dict(zip(described, (line.strip() for line in lines[1::2])))
    assert offers["gan"] == "offers sample"
    assert offers["sgan"] == "offers sample, classify"
    assert offers["vae"] == "offers sample, encode, decode"
    assert offers["aae"].startswith("offers sample, encode, decode; with clusters=3 also ")
    assert "cluster" in offers["aae"] and "predict_codes" in offers["infogan"]
    for name in zoo.list_models():
        model = zoo.create(name, **zoo.get_entry(name).tiny)
        listed = offers[name].split(";")[0].removeprefix("offers ").split(", ")
        assert set(listed) == set(model.capabilities), name


def test_image_model_on_points_says_what_it_expects(tmp_path, capsys):
    code = cli.main(["train", "dcgan", "--data", "ring8", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "dcgan trains on image data; ring8 holds vectors of shape (2,)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists(), "a refused run leaves no directory behind"


def test_unknown_model_lists_valid_names(tmp_path, capsys):
    assert cli.main(["train", "gann", "--data", "ring8", "--out", str(tmp_path / "x")]) == 2
    assert f"Valid names: {', '.join(zoo.list_models())} (aliases: ali)" in capsys.readouterr().err


def test_sample_of_an_unfinished_run_says_how_to_resume(tmp_path, capsys):
    (tmp_path / "backup").mkdir()
    assert cli.main(["sample", str(tmp_path), "--out", str(tmp_path / "x.npy")]) == 2
    assert "same `ganzoo train` command" in capsys.readouterr().err


def test_sample_of_a_missing_run_says_there_is_none(tmp_path, capsys):
    assert cli.main(["sample", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.npy")]) == 2
    assert f"There is no run directory {tmp_path / 'nowhere'}" in capsys.readouterr().err


def test_a_crashed_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    epochs_seen = []
    original = callbacks.SampleSnapshot.on_epoch_end

    def crash_after_second_epoch(self, epoch, logs=None):
        epochs_seen.append(epoch)
        original(self, epoch, logs)
        if epoch == 1 and len(epochs_seen) == 2:
            raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr(callbacks.SampleSnapshot, "on_epoch_end", crash_after_second_epoch)
    out = tmp_path / "run"
    config = TrainConfig("gan", "ring8", epochs=3, batch_size=100, steps_per_epoch=STEPS)
    with pytest.raises(KeyboardInterrupt):
        run.train(config, out, verbose=0)
    assert (out / "backup").exists() and not (out / "model.keras").exists()

    model = run.train(config, out, verbose=0)
    # The crash came before the second epoch was backed up: the resumed run
    # redoes that epoch, but not the first.
    assert epochs_seen == [0, 1, 1, 2]
    # The optimizers' state came back too: their step counts continue.
    assert int(model.g_optimizer.iterations) == 3 * STEPS
    assert int(model.d_optimizer.iterations) == 3 * STEPS


def test_non_finite_loss_stops_training_naming_the_metric():
    stopper = callbacks.StopOnNonFinite()
    stopper.on_train_batch_end(0, {"d_loss": 0.7, "g_loss": 1.2})
    with pytest.raises(FloatingPointError, match="g_loss became nan at batch 3"):
        stopper.on_train_batch_end(3, {"d_loss": 0.7, "g_loss": float("nan")})


def test_export_of_a_run_writes_a_servable_model(finished_run, tmp_path, capsys):
    out = tmp_path / "export"
    # In a new process, as a user runs it: nothing imported beforehand.
    subprocess.run(
        [sys.executable, "-m", "keras_gan_zoo.training.cli", "export", str(finished_run), "--out", str(out), "--version", "3"],
        check=True, capture_output=True,
    )
    assert (out / "gan" / "3" / "saved_model.pb").is_file()
    assert (out / "models.config").is_file() and (out / "batching_parameters.txt").is_file()
    assert cli.main(["export", str(finished_run), "--out", str(out), "--version", "3"]) == 2
    assert "export with another --version" in capsys.readouterr().err


def test_export_caps_the_rows_of_a_request_as_told(finished_run, tmp_path, capsys):
    import tensorflow as tf

    out = tmp_path / "export"
    assert cli.main(["export", str(finished_run), "--out", str(out), "--max-rows", "5"]) == 0
    served = tf.saved_model.load(str(out / "gan" / "1"))
    assert served.signatures["generate"](z=tf.zeros([5, 8]))["samples"].shape == (5, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="generate: z must have at most 5 rows per request"):
        served.signatures["generate"](z=tf.zeros([6, 8]))
    with pytest.raises(SystemExit) as stop:
        cli.main(["export", str(finished_run), "--out", str(tmp_path / "x"), "--max-rows", "0"])
    assert stop.value.code == 2
    assert "argument --max-rows: must be an integer >= 1, got 0" in capsys.readouterr().err


def test_mixed_precision_run_computes_in_bfloat16_and_saves_float32_samples(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(train_args(out, "--mixed-precision")) == 0
    assert "Precision: mixed_bfloat16" in capsys.readouterr().out
    model, arguments = run.load_run(out)
    assert arguments.mixed_precision is True
    assert model.generator.layers[1].compute_dtype == "bfloat16"
    samples = model.sample(8, seed=0)
    assert samples.dtype == np.float32 and np.all(np.isfinite(samples))
    assert keras.mixed_precision.global_policy().name == "float32", "the run leaked its dtype policy"


def test_ema_run_samples_with_the_averaged_generator(tmp_path):
    out = tmp_path / "run"
    assert cli.main(train_args(out, "--ema-decay", "0.99")) == 0
    model, arguments = run.load_run(out)
    assert arguments.model_options["ema_decay"] == 0.99 and model.ema_decay == 0.99
    z = model.prior_sample(4, seed=0)
    np.testing.assert_array_equal(model.generate(z), model.ema_generator(z))


def test_ema_decay_for_a_model_without_generator_is_refused(tmp_path, capsys):
    args = ["train", "vae", "--data", "mnist_5k", "--ema-decay", "0.99", "--out", str(tmp_path / "r")]
    assert cli.main(args) == 2
    assert "has no generator" in capsys.readouterr().err


def test_conditional_model_trains_on_the_datasets_labels(tmp_path):
    out = tmp_path / "run"
    args = ["train", "cgan", "--data", "ring8", "--epochs", "1", "--steps-per-epoch", str(STEPS), "--out", str(out)]
    assert cli.main(args) == 0
    model, _ = run.load_run(out)
    assert model.num_classes == zoo.data.describe("ring8").num_classes
    assert model.sample(8, labels=list(range(8)), seed=0).shape == (8, 2)


def test_semi_supervised_model_trains_on_its_kept_labels(tmp_path):
    out = tmp_path / "run"
    args = ["train", "sgan", "--data", "ring8", "--epochs", "1", "--steps-per-epoch", str(STEPS), "--out", str(out)]
    assert cli.main(args) == 0
    model, _ = run.load_run(out)
    assert model.num_classes == 8 and model.num_labelled == 100
    assert model.classify(zoo.data.synthetic.ring8_means().astype("float32")).shape == (8,)


def test_packing_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(train_args(out, "--packing", "4")) == 0
    model, arguments = run.load_run(out)
    assert arguments.model_options["packing"] == 4 and model.packing == 4
    assert cli.main(["train", "vae", "--data", "mnist_5k", "--packing", "2", "--out", str(tmp_path / "v")]) == 2
    assert "vae has no discriminator that takes it" in capsys.readouterr().err


def png_shape(path):
    import tensorflow as tf

    return tuple(tf.io.decode_png(tf.io.read_file(str(path))).shape)


def train_briefly(model_name, out, *extra):
    args = ["train", model_name, "--data", "mnist_5k", "--epochs", "1", "--steps-per-epoch", "3", "--out", str(out)]
    assert cli.main([*args, *extra]) == 0
    return out


def test_plot_draws_an_aae_latent_space_lattice_and_interpolations(tmp_path, capsys):
    run_dir = train_briefly("aae", tmp_path / "aae")
    assert cli.main(["plot", str(run_dir), "--kind", "latent"]) == 0
    assert cli.main(["plot", str(run_dir), "--kind", "interpolation", "--out", str(tmp_path / "pictures")]) == 0
    # Image grids: 28-pixel images with 2-pixel gaps, every pixel drawn 2 x 2.
    assert png_shape(run_dir / "plots" / "latent_lattice.png") == (2 * (15 * 30 + 2), 2 * (15 * 30 + 2), 1)
    assert png_shape(tmp_path / "pictures" / "interpolation.png") == (2 * (6 * 30 + 2), 2 * (12 * 30 + 2), 1)
    height, width, _ = png_shape(run_dir / "plots" / "latent_codes.png")
    assert width > height > 100, "the codes and the prior side by side"
    assert "Wrote" in capsys.readouterr().out


def test_plot_draws_one_row_per_class_and_says_which_kinds_fit(tmp_path, capsys):
    run_dir = train_briefly("latent_gan", tmp_path / "lgan")
    assert cli.main(["plot", str(run_dir), "--kind", "classes"]) == 0
    assert png_shape(run_dir / "plots" / "classes.png") == (2 * (10 * 30 + 2), 2 * (10 * 30 + 2), 1)
    assert cli.main(["plot", str(run_dir), "--kind", "latent"]) == 2
    assert "needs an unconditional model with encode and decode" in capsys.readouterr().err
    vae_dir = train_briefly("vae", tmp_path / "vae")
    assert cli.main(["plot", str(vae_dir), "--kind", "latent"]) == 2
    assert "Train with --latent-dim 2" in capsys.readouterr().err


def test_guided_gan_needs_a_dataset_with_a_domain_classifier_and_latent_models_refuse_latent_dim(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "guided_gan", "--data", "mnist_5k", "--out", out]) == 2
    assert "ships one for fashion_mnist, not for mnist_5k" in capsys.readouterr().err
    assert cli.main(["train", "latent_gan", "--data", "mnist_5k", "--latent-dim", "4", "--out", out]) == 2
    assert "--latent-dim does not apply to latent_gan" in capsys.readouterr().err


@pytest.mark.parametrize("flags, says", [
    (["--epochs", "-1"], "argument --epochs: must be an integer >= 1, got -1"),
    (["--batch-size", "0"], "argument --batch-size: must be an integer >= 1, got 0"),
    (["--steps-per-epoch", "0"], "argument --steps-per-epoch: must be an integer >= 1, got 0"),
])
def test_bad_numbers_exit_non_zero_with_one_line(flags, says, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "gan", "--data", "ring8", "--out", str(tmp_path / "r"), *flags])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flags, xla, compiled", [
    ([], "auto", False), (["--xla"], True, True), (["--xla", "on"], True, True), (["--xla", "off"], False, False),
    (["--xla", "auto"], "auto", False),
])
def test_xla_is_auto_by_default_and_auto_is_off_without_a_gpu(flags, xla, compiled):
    import tensorflow as tf

    assert not tf.config.list_physical_devices("GPU"), "this test describes a machine without GPUs"
    config = cli._train_config(cli.parser().parse_args(["train", "gan", "--data", "ring8", *flags]))
    assert config.xla == xla and config.uses_xla() is compiled
    with pytest.raises(ValueError, match='xla must be true, false or "auto", got \'yes\''):
        TrainConfig(model="gan", data="ring8", xla="yes")


def test_sample_refuses_an_unknown_extension_before_loading_anything(tmp_path, capsys):
    # No run there at all: the extension is what the error names.
    assert cli.main(["sample", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert "--out must end in .png (a picture), .npy (an array) or .csv (a table's rows), got" in err and len(err.strip().splitlines()) == 1


def test_a_finished_run_is_not_trained_again_unless_overwrite(finished_run, tmp_path, capsys):
    assert cli.main(train_args(finished_run)) == 2
    err = capsys.readouterr().err
    assert "holds a finished run. Give another --out, or --overwrite" in err and len(err.strip().splitlines()) == 1
    copy = tmp_path / "copy"
    assert cli.main(train_args(copy)) == 0
    before = (copy / "model.keras").stat().st_mtime_ns
    assert cli.main(train_args(copy, "--overwrite", "--seed", "3")) == 0
    assert (copy / "model.keras").stat().st_mtime_ns != before
    assert run.load_run(copy)[1].seed == 3


def test_ctrl_c_says_in_one_line_what_is_saved_and_how_to_resume(tmp_path, monkeypatch, capsys):
    def interrupt(self, epoch, logs=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(callbacks.SampleSnapshot, "on_epoch_end", interrupt)
    out = tmp_path / "run"
    assert cli.main(train_args(out, "--backup-every-steps", "2")) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert f"saved in {out / 'backup'}: the same command resumes from there" in err[0]


def test_version_names_the_distribution(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("ganzoo 0.")


def test_recipes_are_listed_and_a_recipe_file_trains(tmp_path, capsys):
    assert cli.main(["recipes"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.strip().splitlines()]
    assert {"packed_critic_ring8", "packed_critic_grid25", "packed_critic_gauss1200"} <= set(listed)
    recipe = json.loads((RECIPES_DIR / "packed_critic_ring8.json").read_text())
    recipe.update(epochs=1, steps_per_epoch=STEPS, sampling={"rejection_steps": 20, "max_quantile": 0.9})
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(recipe))
    out = tmp_path / "run"
    assert cli.main(["train", "--recipe", str(path), "--out", str(out)]) == 0
    model, config = run.load_run(out)
    assert config.model_options["packing"] == 4 and model.packing == 4
    assert config.optimizers["g_optimizer"].schedule == "cosine"
    assert (out / "ratio.keras").is_file() and model.sampler is not None
    # The recipe's settings reach the optimizers: cosine-decayed from 1e-3.
    assert float(model.g_optimizer.learning_rate) < 1e-3
    assert cli.main(["train", "--recipe", "no_such_recipe", "--out", str(tmp_path / "x")]) == 2
    shipped = ", ".join(recipe_names())
    assert f"Unknown recipe 'no_such_recipe'; the shipped ones are: {shipped} (or give" in capsys.readouterr().err


@pytest.mark.parametrize("name", recipe_names())
def test_every_shipped_recipe_describes_itself_and_builds_its_model(name):
    from keras_gan_zoo.training.config import load_recipe

    assert json.loads((RECIPES_DIR / f"{name}.json").read_text()).get("description"), f"{name} says nothing of itself"
    config = load_recipe(name)
    model = run.build_model(config)
    assert model.registered_name == config.model and config.total_steps(1) >= 1


def test_tensorboard_gets_each_epochs_sample_picture(finished_run):
    import tensorflow as tf

    events = sorted((finished_run / "logs" / "samples").glob("events.out.tfevents.*"))
    assert events, "no sample pictures in TensorBoard's logs"
    steps = [e.step for path in events for e in tf.compat.v1.train.summary_iterator(str(path))
             if any(v.tag == "samples" for v in e.summary.value)]
    assert steps == [1, 2]


def test_the_command_prints_what_the_user_needs_and_no_native_start_up_log(tmp_path):
    ganzoo = pathlib.Path(sys.executable).with_name("ganzoo")
    done = subprocess.run([str(ganzoo), *train_args(tmp_path / "run")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Training gan on ring8 under one device (no distribution strategy)" in done.stdout
    for noise in ("absl::InitializeLog", "cudart_stub", "cuInit", "oneDNN custom operations", "I0000"):
        assert noise not in done.stderr, done.stderr
    refused = subprocess.run([str(ganzoo), "train", "gan", "--data", "ring8", "--batch-size", "0"],
                             capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "ganzoo train: argument --batch-size: must be an integer >= 1, got 0 (see ganzoo train --help)"]


@pytest.mark.parametrize("damage, named", [
    ({"state.json": "{not json"}, "state.json"),
    ({"state.json": json.dumps({"epoch": 1}), "state-1-0.weights.h5": b"\x89HDF"}, "state.json"),
    ({"state.json": json.dumps({"epoch": 1, "step": 0, "weights": "state-1-0.weights.h5"}),
      "state-1-0.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 64}, "state-1-0.weights.h5"),
    ({"state.json": json.dumps({"epoch": 1, "step": 0, "weights": "gone.weights.h5"})}, "gone.weights.h5"),
], ids=["state not JSON", "state missing keys", "weights truncated", "weights missing"])
def test_a_damaged_backup_is_named_with_how_to_start_over(tmp_path, capsys, damage, named):
    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    for name, content in damage.items():
        path = out / "backup" / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    assert cli.main(train_args(out)) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1, error
    assert f"{out / 'backup' / named} cannot be read" in error
    assert f"the checkpoint is damaged. Delete {out / 'backup'} to start the run over." in error


def test_a_truncated_model_file_is_named_as_damaged(finished_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    model_file = run / "model.keras"
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    assert cli.main(["sample", str(run), "--out", str(tmp_path / "s.npy")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1, error
    assert f"{model_file} cannot be loaded" in error and "the file is damaged or not a .keras file" in error
    assert "File not found" not in error.split("):")[-1]


def test_rcgan_trains_on_waves_and_draws_series_by_class_and_a_latent_walk(tmp_path, capsys):
    run_dir = tmp_path / "rcgan"
    assert cli.main(["train", "rcgan", "--data", "waves", "--epochs", "1", "--steps-per-epoch", "3",
                     "--out", str(run_dir)]) == 0
    height, width, _ = png_shape(run_dir / "samples" / "epoch_001.png")
    assert width > 600 and height > 300, "generated and real series of two classes side by side"
    assert cli.main(["plot", str(run_dir), "--kind", "classes"]) == 0
    assert cli.main(["plot", str(run_dir), "--kind", "walk"]) == 0
    for name in ("classes.png", "walk_0.png", "walk_1.png"):
        assert png_shape(run_dir / "plots" / name)[0] > 300
    assert cli.main(["plot", str(run_dir), "--kind", "latent"]) == 2
    gan_dir = tmp_path / "gan"
    assert cli.main(["train", "gan", "--data", "ring8", "--epochs", "1", "--steps-per-epoch", "2", "--out",
                     str(gan_dir)]) == 0
    capsys.readouterr()
    assert cli.main(["plot", str(gan_dir), "--kind", "walk"]) == 2
    assert "--kind walk draws series generated by class" in capsys.readouterr().err


def test_tabular_gan_trains_on_autompg_and_samples_a_csv_with_the_original_header(tmp_path, capsys, finished_run):
    import pandas as pd

    run_dir = tmp_path / "tab"
    assert cli.main(["train", "tabular_gan", "--data", "autompg", "--epochs", "1", "--steps-per-epoch", "3",
                     "--out", str(run_dir)]) == 0
    assert png_shape(run_dir / "samples" / "epoch_001.png")[1] > 800, "one panel per column"
    out = tmp_path / "rows.csv"
    assert cli.main(["sample", str(run_dir), "--n", "7", "--seed", "1", "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    cars = zoo.data.tables.load_autompg()
    assert list(rows.columns) == list(cars.columns) and len(rows) == 7
    assert set(rows.origin) <= {1, 2, 3}
    capsys.readouterr()
    assert cli.main(["sample", str(finished_run), "--out", str(tmp_path / "points.csv")]) == 2
    assert "a .csv holds a table's rows; gan makes arrays" in capsys.readouterr().err


def test_tabular_gan_trains_on_a_csv_and_says_what_is_wrong_with_one(tmp_path, capsys):
    import pandas as pd

    cars = zoo.data.tables.load_autompg().assign(origin=lambda t: t.origin.map({1: "usa", 2: "europe", 3: "japan"}))
    path = tmp_path / "cars.csv"
    cars.to_csv(path, index=False)
    run_dir = tmp_path / "run"
    assert cli.main(["train", "tabular_gan", "--data", f"csv:{path}", "--categorical", "cylinders,origin",
                     "--epochs", "1", "--steps-per-epoch", "2", "--out", str(run_dir)]) == 0
    assert json.loads((run_dir / "run.json").read_text())["categorical"] == ["cylinders", "origin"]
    out = tmp_path / "rows.csv"
    assert cli.main(["sample", str(run_dir), "--n", "9", "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    assert list(rows.columns) == list(cars.columns) and set(rows.origin) <= {"usa", "europe", "japan"}
    capsys.readouterr()
    assert cli.main(["train", "tabular_gan", "--data", f"csv:{path}", "--out", str(tmp_path / "r2")]) == 2
    assert "columns ['origin'] are not numeric: name them as categorical (--categorical origin)" in capsys.readouterr().err
    assert cli.main(["train", "tabular_gan", "--data", f"csv:{path}", "--categorical", "origin,colour",
                     "--out", str(tmp_path / "r3")]) == 2
    assert "categorical columns ['colour'] are not in the table" in capsys.readouterr().err
    holed = tmp_path / "holed.csv"
    cars.assign(weight=cars.weight.where(cars.index != 3)).to_csv(holed, index=False)
    assert cli.main(["train", "tabular_gan", "--data", f"csv:{holed}", "--categorical", "origin",
                     "--out", str(tmp_path / "r4")]) == 2
    assert "missing values in weight (rows 3" in capsys.readouterr().err
    assert cli.main(["train", "gan", "--data", "ring8", "--categorical", "a", "--out", str(tmp_path / "r5")]) == 2
    assert "--categorical names the categorical columns of a CSV table" in capsys.readouterr().err
    assert cli.main(["train", "tabular_gan", "--data", f"csv:{tmp_path / 'none.csv'}", "--out",
                     str(tmp_path / "r6")]) == 2
    assert "There is no CSV file" in capsys.readouterr().err
