"""Checkpoints a killed run resumes from, written so that a kill never leaves a torn one.

BACKUP_DIR/
    state.json              {"epoch": finished epochs, "step": steps into the next epoch,
                             "weights": the file below}
    state-E-S.weights.h5    the model's and its optimizers' variables at that point

A checkpoint is written in three moves: the weights to a temporary file
renamed into place, then `state.json` the same way, then the previous weights
file is deleted. The rename of `state.json` is the commit: a kill before it
leaves the previous checkpoint whole, a kill after it the new one.
"""

import dataclasses
import json
import os
import pathlib

import keras

STATE_FILE = "state.json"


@dataclasses.dataclass(frozen=True)
class Position:
    """Where a run stands: `epoch` epochs finished and `step` steps into the next."""

    epoch: int = 0
    step: int = 0


def write_atomically(path, write):
    """Calls `write(temporary_path)`, flushes it to disk, and renames it to `path`."""
    path = pathlib.Path(path)
    # Keras insists on the ".weights.h5" ending, so the marker goes in front.
    temporary = path.with_name(f".writing-{os.getpid()}-{path.name}")
    write(temporary)
    with open(temporary, "rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)


class DamagedBackup(ValueError):
    """A checkpoint that cannot be read: the message names the file and how to start over."""

    def __init__(self, backup_dir, path, error):
        super().__init__(
            f"{path} cannot be read ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}): "
            f"the checkpoint is damaged. Delete {backup_dir} to start the run over."
        )


def _read_state(backup_dir):
    """`(Position, weights file name)` of the last committed checkpoint, or None when there is none."""
    state_path = pathlib.Path(backup_dir) / STATE_FILE
    if not state_path.exists():
        return None
    try:
        state = json.loads(state_path.read_text())
        return Position(int(state["epoch"]), int(state["step"])), str(state["weights"])
    except (ValueError, KeyError, TypeError) as error:
        raise DamagedBackup(backup_dir, state_path, error) from None


def read_position(backup_dir):
    """The position of the last committed checkpoint, or None when there is none."""
    state = _read_state(backup_dir)
    return None if state is None else state[0]


def restore(model, backup_dir):
    """Loads the last committed checkpoint into `model`; returns its Position or None.

    A damaged checkpoint is a `DamagedBackup` naming the file, not a traceback.
    """
    backup_dir = pathlib.Path(backup_dir)
    state = _read_state(backup_dir)
    if state is None:
        return None
    position, weights_name = state
    weights = backup_dir / weights_name
    try:
        model.load_weights(weights)
    except Exception as error:  # h5py and Keras raise many kinds for a torn or foreign file
        raise DamagedBackup(backup_dir, weights, error) from None
    return position


class RunBackup(keras.callbacks.Callback):
    """Writes a checkpoint at every epoch's end and, optionally, every N steps.

    Args:
        backup_dir: where checkpoints go.
        every_steps: also write one every this many steps; None for epochs only.
        start: the position the `fit` call this callback serves starts from
            (a resumed run can start mid-epoch).
        enabled: False on the workers of a multi-worker run that are not the
            chief: the chief alone writes.
    """

    def __init__(self, backup_dir, every_steps=None, start=Position(), enabled=True):
        super().__init__()
        if every_steps is not None and every_steps < 1:
            raise ValueError(f"Backups every {every_steps} steps: give a number >= 1, or none.")
        self.backup_dir = pathlib.Path(backup_dir)
        self.every_steps = every_steps
        self.start = start
        self.enabled = enabled
        self._epoch = start.epoch
        self._step = start.step

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._step = self.start.step if epoch == self.start.epoch else 0

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the last step of the call that ended, counted from this `fit`'s first step of the
        # epoch: with several steps per call (`steps_per_execution`) it moves by more than one.
        self._step = (self.start.step if self._epoch == self.start.epoch else 0) + batch + 1
        if self.every_steps and self._step % self.every_steps == 0:
            self.save(Position(self._epoch, self._step))

    def on_epoch_end(self, epoch, logs=None):
        self.save(Position(epoch + 1, 0))

    def save(self, position):
        if not self.enabled:
            return
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        previous = self._committed_weights()
        weights_name = f"state-{position.epoch}-{position.step}.weights.h5"
        write_atomically(
            self.backup_dir / weights_name,
            lambda path: self.model.save_weights(path, overwrite=True),
        )
        state = {"epoch": position.epoch, "step": position.step, "weights": weights_name}
        write_atomically(
            self.backup_dir / STATE_FILE,
            lambda path: pathlib.Path(path).write_text(json.dumps(state) + "\n"),
        )
        if previous and previous != weights_name:
            (self.backup_dir / previous).unlink(missing_ok=True)

    def _committed_weights(self):
        state_path = self.backup_dir / STATE_FILE
        return json.loads(state_path.read_text())["weights"] if state_path.exists() else None
