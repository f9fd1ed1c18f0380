"""Runs survive being killed, stop cleanly on NaN, and train under a chosen strategy."""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan_zoo as zoo
from keras_gan_zoo import xla
from keras_gan_zoo.training import backup, callbacks

# 100 steps of batch 1,000 per epoch (ring8 holds 100,000 points): about a second each.
TRAIN = [sys.executable, "-m", "keras_gan_zoo.training.cli", "train", "gan", "--data", "ring8", "--epochs", "3",
         "--batch-size", "1000"]


def start_and_kill_after_first_checkpoint(command, out):
    """Runs `command` until its first checkpoint is committed, SIGKILLs it, returns the position."""
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while backup.read_position(out / "backup") is None and first.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert first.poll() is None, "the first run ended before it could be killed"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert not (out / "model.keras").exists()
    return backup.read_position(out / "backup")


def test_a_killed_run_resumes_and_finishes_with_the_same_epoch_count(tmp_path):
    out = tmp_path / "run"
    command = TRAIN + ["--out", str(out)]
    assert start_and_kill_after_first_checkpoint(command, out).epoch >= 1

    second = subprocess.run(command, capture_output=True, text=True, check=True)
    log = second.stdout
    assert "Resuming from" in log and "1 of 3 epochs were done." in log
    assert "Epoch 2/3" in log and "Epoch 3/3" in log
    assert "Epoch 1/3" not in log, "a finished epoch was repeated"
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png", "epoch_003.png"]
    model = keras.models.load_model(out / "model.keras")
    assert int(model.g_optimizer.iterations) == 3 * 100, "the optimizer state was not restored"
    assert model.sample(4, seed=0).shape == (4, 2)
    assert not (out / "backup").exists(), "a finished run leaves nothing to resume"


@pytest.mark.parametrize("per_call", [[], ["--steps-per-execution", "10"]], ids=["default", "10-per-call"])
def test_a_run_killed_mid_epoch_resumes_from_its_last_step_checkpoint(tmp_path, per_call):
    # The default runs this small gan 20 steps per call (the largest divisor of 100 and 20 up to 25).
    out = tmp_path / "run"
    command = TRAIN + ["--out", str(out), "--backup-every-steps", "20"] + per_call
    position = start_and_kill_after_first_checkpoint(command, out)
    assert position.epoch == 0 and position.step == 20, position
    leftovers = [p.name for p in (out / "backup").iterdir() if p.name.startswith(".writing")]
    assert [p.name for p in (out / "backup").iterdir() if p.suffix == ".h5" and p.name not in leftovers] == [
        "state-0-20.weights.h5"], "exactly one committed checkpoint is kept"

    log = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert "0 of 3 epochs were done, and 20 of 100 steps of epoch 1." in log
    assert [line.split()[1] for line in log.splitlines() if line.startswith("Epoch ")] == ["1/3", "2/3", "3/3"]
    model = keras.models.load_model(out / "model.keras")
    # 20 steps before the kill and 280 after: none repeated, none skipped.
    assert int(model.g_optimizer.iterations) == 3 * 100


def _train_in_process(tmp_path, name, **fields):
    from keras_gan_zoo.training import run
    from keras_gan_zoo.training.config import TrainConfig

    fields = {"epochs": 2, "steps_per_epoch": 10, "batch_size": 100, **fields}
    config = TrainConfig(model="gan", data="ring8", model_options={"ema_decay": 0.9}, **fields)
    return run.train(config, tmp_path / name, verbose=0)


def _assert_same_training(model, reference, steps):
    assert int(model.g_optimizer.iterations) == int(reference.g_optimizer.iterations) == steps
    # Every variable: both players, both optimizers' moments, the averaged generator, the noise seed's state.
    assert len(model.variables) == len(reference.variables)
    for mine, theirs in zip(model.variables, reference.variables):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs), err_msg=mine.path)


def test_several_steps_per_call_train_exactly_as_one_step_per_call(tmp_path):
    one = _train_in_process(tmp_path, "one", steps_per_execution=1)
    five = _train_in_process(tmp_path, "five", steps_per_execution=5)
    default = _train_in_process(tmp_path, "default")
    assert default.steps_per_execution == 10, "the default runs a small model's epoch of 10 steps in one call"
    assert five.steps_per_execution == 5
    for model in (five, default):
        _assert_same_training(model, one, 20)
    np.testing.assert_array_equal(default.sample(8, seed=3), one.sample(8, seed=3))


def test_epochs_bounded_by_the_data_train_exactly_as_one_step_per_call(tmp_path):
    # No steps_per_epoch: every epoch is one pass over ring8 (100,000 points, 10 batches) in a new order,
    # its 10 batches fetched in one group.
    one = _train_in_process(tmp_path, "one", steps_per_execution=1, steps_per_epoch=None, batch_size=10_000)
    grouped = _train_in_process(tmp_path, "grouped", steps_per_epoch=None, batch_size=10_000)
    assert grouped.steps_per_execution == 10
    _assert_same_training(grouped, one, 20)


def test_grouped_batches_run_every_batch_once_in_order_then_keras_loop_returns():
    model = zoo.create("gan", seed=0, data_shape=(2,), latent_dim=2, hidden_units=(4,))
    model.compile()
    batches = tf.data.Dataset.range(6).map(lambda i: tf.fill([3, 2], tf.cast(i, tf.float32)))
    traced, order, count = [], tf.Variable(tf.fill([18], -1.0)), tf.Variable(0)
    step = model.train_step

    def recording_step(data):
        traced.append(data)
        order.scatter_nd_update([[count]], [data[0, 0]])
        count.assign_add(1)
        return step(data)

    model.train_step = recording_step
    with model.grouping_batches(3):
        history = model.fit(zoo.steps.group_batches(batches, 3), epochs=2, verbose=0)
    assert model.steps_per_execution == 3 and int(model.d_optimizer.iterations) == 12
    assert len(history.history["d_loss"]) == 2
    np.testing.assert_array_equal(order.numpy()[:12], [0, 1, 2, 3, 4, 5] * 2)
    # An in-graph loop, traced once: its first step and its body, one batch each.
    assert [tuple(t.shape) for t in traced] == [(3, 2), (3, 2)]
    model.steps_per_execution = 2
    model.fit(batches, epochs=1, verbose=0)
    assert int(model.d_optimizer.iterations) == 18, "after the block, fit takes ungrouped batches again"
    np.testing.assert_array_equal(order.numpy()[12:], [0, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="4 batches per call do not divide the dataset's 6 batches"):
        zoo.steps.group_batches(batches, 4)
    assert zoo.steps.group_batches(batches, 1) is batches, "one batch per element: the dataset as it is"
    with pytest.raises(ValueError, match="this dataset's batch size is not fixed"):
        zoo.steps.group_batches(tf.data.Dataset.range(7).batch(3), 2)
    for wrong in (0, 2.5, True):
        with pytest.raises(ValueError, match=f"batches per element must be a whole number >= 1, got {wrong!r}"):
            zoo.steps.group_batches(batches, wrong)
        with pytest.raises(ValueError, match="batches per element must be a whole number >= 1"):
            with model.grouping_batches(wrong):
                pass


def _tiny_gan_trained(epochs, grouped=True, **compile_options):
    """A tiny gan fit for `epochs` epochs of 6 ring8 batches, 3 steps per call: grouped, or in Keras's loop."""
    keras.utils.set_random_seed(0)
    model = zoo.create("gan", seed=0, data_shape=(2,), latent_dim=2, hidden_units=(4,))
    model.compile(**compile_options)
    batches = zoo.data.pipeline(zoo.data.load_arrays("ring8")[0][:120], batch_size=20, shuffle=False)
    group = 3 if grouped else 1
    with model.grouping_batches(group):
        model.steps_per_execution = 3
        model.fit(zoo.steps.group_batches(batches, group), epochs=epochs, verbose=0)
    return model


def test_grouped_batches_run_eagerly_when_the_model_does():
    _assert_same_training(_tiny_gan_trained(1, run_eagerly=True), _tiny_gan_trained(1), 6)


def test_grouped_batches_compile_each_step_with_xla_as_keras_does():
    grouped = _tiny_gan_trained(2, jit_compile=True)
    assert grouped.xla_compiles == xla.WHOLE_STEP
    _assert_same_training(grouped, _tiny_gan_trained(2, grouped=False, jit_compile=True), 12)


def test_grouped_batches_refuse_a_strategy_with_several_replicas():
    strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")[:2]])
    with strategy.scope():
        model = zoo.create("gan", seed=0, data_shape=(2,), latent_dim=2, hidden_units=(4,))
        model.compile()
    with pytest.raises(ValueError, match="grouping batches runs on one device; this model is under a strategy "
                                         "with 2 replicas"):
        with model.grouping_batches(5):
            pass


def test_steps_per_execution_must_divide_the_epoch_and_the_checkpoints(tmp_path):
    from keras_gan_zoo.training import run
    from keras_gan_zoo.training.config import TrainConfig

    model = zoo.create("gan", data_shape=(2,))
    config = TrainConfig(model="gan", data="ring8", steps_per_execution=4, backup_every_steps=6)
    with pytest.raises(ValueError, match=r"must divide the steps of an epoch \(12\) and --backup-every-steps \(6\)"
                                         r".*6 divides by 1, 2, 3, 6\."):
        run.steps_per_execution_of(config, model, 12)
    assert run.steps_per_execution_of(dataclasses.replace(config, backup_every_steps=8), model, 12) == 4


def test_an_epoch_is_one_pass_over_the_train_split_as_the_model_batches_it():
    from keras_gan_zoo.training import run
    from keras_gan_zoo.training.config import TrainConfig

    gan = TrainConfig(model="gan", data="ring8", batch_size=100)
    assert run.steps_per_epoch_of(gan, zoo.create("gan", data_shape=(2,))) == 100_000 // 100
    assert run.steps_per_epoch_of(dataclasses.replace(gan, steps_per_epoch=7), zoo.create("gan", data_shape=(2,))) == 7
    # Half of each semi-supervised batch is labelled examples: 4,000 digits take 125 batches of 64, not 62.
    sgan = TrainConfig(model="sgan", data="mnist_5k", batch_size=64, model_options={"num_labelled": 100})
    assert run.steps_per_epoch_of(sgan, zoo.create("sgan", data_shape=(28, 28, 1), num_labelled=100)) == 125


def test_the_default_steps_per_execution_runs_small_models_100_steps_per_call_and_large_ones_1():
    from keras_gan_zoo.training import run
    from keras_gan_zoo.training.config import TrainConfig

    small = zoo.create("gan", data_shape=(2,))
    config = TrainConfig(model="gan", data="ring8")
    assert [run.steps_per_execution_of(config, small, steps) for steps in (1000, 150, 12, 26, 7)] == [100, 75, 12, 26, 7]
    assert run.steps_per_execution_of(dataclasses.replace(config, backup_every_steps=30), small, 1000) == 10
    # Several replicas: one step per call (Keras 3's loop fails there), and asking for more is refused.
    assert run.steps_per_execution_of(config, small, 1000, replicas=2) == 1
    with pytest.raises(ValueError, match=r"--steps-per-execution 5 cannot run under a strategy with 2 replicas"):
        run.steps_per_execution_of(dataclasses.replace(config, steps_per_execution=5), small, 1000, replicas=2)
    large = zoo.create("dcgan")
    assert large.count_params() >= run.SMALL_MODEL_PARAMETERS
    assert run.steps_per_execution_of(config, large, 1000) == 1


class DivergeAfterFirstEpoch(keras.callbacks.Callback):
    """Sets the discriminator's output bias to NaN once the first epoch is backed up.

    (NaN in the data or in a hidden layer does not do it for these nets: ReLU
    maps NaN to 0 on this CPU's kernels, so the loss stays finite.)
    """

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            output_bias = self.model.discriminator.trainable_weights[-1]
            output_bias.assign(np.full(output_bias.shape, np.nan, "float32"))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    model = zoo.create("gan", **zoo.get_entry("gan").tiny)
    model.compile()
    data = zoo.data.pipeline(np.full((32, 2), 0.5, "float32"), batch_size=8, shuffle=False)
    backup_dir = tmp_path / "backup"
    with pytest.raises(FloatingPointError, match=r"d_loss became nan at batch 0"):
        model.fit(data, epochs=3, verbose=0, callbacks=[
            callbacks.StopOnNonFinite(), backup.RunBackup(backup_dir), DivergeAfterFirstEpoch(),
        ])
    restored = zoo.create("gan", **zoo.get_entry("gan").tiny)
    restored.compile()
    assert backup.restore(restored, backup_dir) == backup.Position(epoch=1, step=0)
    assert all(np.all(np.isfinite(w.numpy())) for w in restored.trainable_weights)


def test_train_under_mirrored_strategy_on_two_cpus_with_xla(tmp_path):
    script = (
        "import sys, tensorflow as tf;"
        "cpu = tf.config.list_physical_devices('CPU')[0];"
        "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2);"
        "from training import cli; sys.exit(cli.main(sys.argv[1:]))"
    )
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-c", script, "train", "gan", "--data", "ring8", "--epochs", "1",
         "--steps-per-epoch", "5", "--strategy", "mirrored", "--devices", "/cpu:0,/cpu:1", "--out", str(out),
         "--xla"],
        capture_output=True, text=True, check=True,
        # The script imports TensorFlow before the CLI could set this flag.
        env={**os.environ, "TF_XLA_FLAGS": "--tf_xla_cpu_global_jit"},
    )
    assert "MirroredStrategy with 2 replica(s), global batch 100" in result.stdout
    assert "XLA: XLA auto-clustering of the train step" in result.stdout
    assert "runs uncompiled" not in result.stderr
    assert (out / "model.keras").exists()


def test_multiworker_without_tf_config_says_what_to_set(monkeypatch):
    from keras_gan_zoo.training import strategies

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="reads the cluster from TF_CONFIG"):
        strategies.make_strategy("multiworker")
    with pytest.raises(ValueError, match="--devices applies to --strategy mirrored only"):
        strategies.make_strategy("default", devices=["/cpu:0"])


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(out, extra=()):
    """Two `ganzoo train --strategy multiworker` processes on localhost, worker 0 the chief.

    Logs go to worker0.log and worker1.log beside `out`, replaced on every start.
    """
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        log = open(out.parent / f"worker{index}.log", "w")
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "keras_gan_zoo.training.cli", "train", "gan", "--data", "ring8", "--epochs", "2",
             "--steps-per-epoch", "5", "--strategy", "multiworker", "--out", str(out), *extra],
            env={**os.environ, "TF_CONFIG": json.dumps(tf_config)}, stdout=log, stderr=subprocess.STDOUT,
        ))
    return workers


def test_two_workers_on_localhost_train_and_only_the_chief_saves(tmp_path):
    out = tmp_path / "run"
    workers = start_workers(out)
    codes = [w.wait(timeout=300) for w in workers]
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs
    for log in logs:
        assert "MultiWorkerMirroredStrategy with 2 replica(s), global batch 100" in log
    model = keras.models.load_model(out / "model.keras")
    assert int(model.g_optimizer.iterations) == 2 * 5
    samples = model.sample(16, seed=0)
    assert samples.shape == (16, 2) and np.all(np.isfinite(samples))
    assert sorted(p.name for p in out.iterdir()) == ["logs", "model.keras", "run.json", "samples"]


def test_a_killed_worker_stops_the_run_and_restarting_both_resumes(tmp_path):
    out = tmp_path / "run"
    extra = ["--epochs", "3", "--steps-per-epoch", "100", "--batch-size", "1000"]
    workers = start_workers(out, extra)
    deadline = time.time() + 300
    while backup.read_position(out / "backup") is None and workers[0].poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert workers[0].poll() is None, (tmp_path / "worker0.log").read_text()[-2000:]
    os.kill(workers[1].pid, signal.SIGKILL)
    # The chief notices the lost peer through TensorFlow's heartbeats and stops.
    assert workers[0].wait(timeout=180) == 2
    chief_log = (tmp_path / "worker0.log").read_text()
    assert "a worker of this run stopped responding" in chief_log and "restart every worker" in chief_log
    finished_before_kill = backup.read_position(out / "backup").epoch
    assert finished_before_kill >= 1

    restarted = start_workers(out, extra)
    assert [w.wait(timeout=300) for w in restarted] == [0, 0], (tmp_path / "worker0.log").read_text()[-2000:]
    log = (tmp_path / "worker0.log").read_text()
    assert f"{finished_before_kill} of 3 epochs were done" in log
    assert "Epoch 1/3" not in log
    model = keras.models.load_model(out / "model.keras")
    assert int(model.g_optimizer.iterations) == 3 * 100
