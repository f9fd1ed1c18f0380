"""The `ganzoo` command's terminal: TensorFlow's C++ start-up log kept out of it.

Nothing here imports TensorFlow: `keras_gan_zoo` calls `quiet_native_log` before
its own imports when the process is the `ganzoo` command, since the runtime
logs as it loads.
"""

import atexit
import os
import re
import sys
import threading

_installed = False

# TensorFlow's C++ runtime logs its start-up to the process's stderr: oneDNN,
# CUDA drivers looked for and not found, CPU features, grappler's remapper
# giving up on a fusion. Users read them as failures; none asks anything of them.
#
# The remapper line is not a fault of the zoo's graphs: TensorFlow's oneDNN
# remapper tries to fuse Conv2D + BiasAdd + LeakyRelu in the training step of
# encoders without batch norm (vae, aae), finds the LeakyReluGrad of the
# backward pass still reading the BiasAdd it would remove, and keeps the graph
# as it was. Results do not change, and the step time did not either: vae at
# 28x28, batch 128, three interleaved runs of 80 steps each, 0.042-0.064 s per
# step with the remapper as is against 0.049-0.064 with it switched off
# (tf.config.optimizer.set_experimental_options({"remapping": False})).
_NATIVE_LOG_LINE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "
    rb"|E\d{4} [\d:.]+ +\d+ (?:cuda_\w+|meta_optimizer)\.cc:\d+\] "
    rb"(?:failed call to cuInit|remapper failed)"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: )")


def quiet_native_log():
    """Passes the process's stderr through a thread that drops `_NATIVE_LOG_LINE`s.

    At the file-descriptor level, since the C++ runtime writes there directly
    (TF_CPP_MIN_LOG_LEVEL does not silence its absl start-up lines). Set
    GANZOO_TF_LOGS=1 to see everything.
    """
    global _installed
    if _installed or os.environ.get("GANZOO_TF_LOGS"):
        return
    _installed = True
    read_end, write_end = os.pipe()
    real_stderr = os.dup(2)
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        with os.fdopen(read_end, "rb") as lines, os.fdopen(os.dup(real_stderr), "wb", buffering=0) as out:
            for line in lines:
                if not _NATIVE_LOG_LINE.match(line):
                    out.write(line)

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()

    def restore():
        sys.stderr.flush()
        # Closing the pipe's last writer ends the thread once it has forwarded everything.
        os.dup2(real_stderr, 2)
        thread.join(timeout=5)

    atexit.register(restore)
