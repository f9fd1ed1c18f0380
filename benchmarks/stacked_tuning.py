"""Stacked MNIST tuning on seed 0: what a dcgan configuration reaches half-way and at the end.

Seed 0 is the tuning seed of benchmarks/stacked_modes.py: configurations are
compared here and the chosen one runs there at seeds no run has used. Beside
modes and KL, each reading records the share of channel digits the judge reads
with a top probability under 0.9 (`unsure`; real stacked digits about 4%), the
sign of digits too malformed for their histogram to say much.

    python benchmarks/stacked_tuning.py --tag wide128 --options '{"filters": 128}'
    python benchmarks/stacked_tuning.py --tag mnist1 --data mnist_5k   # one digit per image, for comparison

Runs one single-threaded training; appends one record per reading to
docs/results/stacked_tuning.jsonl as it goes.
"""

import argparse
import json
import pathlib
import time

import numpy as np
from reporting import now_stamp

RECORD = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results" / "stacked_tuning.jsonl"
SEED = 0
SAMPLES = 26_000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", required=True, help="the record's name for this configuration")
    parser.add_argument("--options", default="{}", help="dcgan options, as JSON")
    parser.add_argument("--steps", type=int, default=4000, help="generator steps; read half-way and at the end")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", default="stacked_mnist", choices=["stacked_mnist", "mnist_5k"])
    args = parser.parse_args()
    options = json.loads(args.options)

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    import keras_gan_zoo as zoo
    from keras_gan_zoo import judges, metrics

    keras.utils.set_random_seed(SEED)
    x, _ = zoo.data.load_arrays(args.data, "train")
    model = zoo.create("dcgan", data_shape=x.shape[1:], seed=SEED, **options)
    model.compile()
    judge = judges.Judge.for_dataset("stacked_mnist")
    data = model.training_data(x, batch_size=args.batch_size, seed=SEED).repeat()
    started, done = time.perf_counter(), 0
    for chunk in (args.steps // 2, args.steps - args.steps // 2):
        model.fit(data, epochs=1, steps_per_epoch=chunk, verbose=0)
        done += chunk
        samples = np.asarray(model.sample(SAMPLES, seed=SEED))
        probabilities = [judge.probabilities(samples[..., c:c + 1]) for c in range(samples.shape[-1])]
        classes = np.stack([p.argmax(axis=1) for p in probabilities], axis=1)
        if classes.shape[1] == 1:
            # One digit per image: its histogram read as three identical channels, so that
            # channel_kl[0] is the digit histogram's KL from uniform (modes and kl then mean nothing).
            classes = np.repeat(classes, 3, axis=1)
        counted = metrics.stacked_modes(classes)
        unsure = float(np.mean([(p.max(axis=1) < 0.9).mean() for p in probabilities]))
        row = {"tag": args.tag, "data": args.data, "options": options, "seed": SEED, "steps": done,
               "batch_size": args.batch_size, "seconds": round(time.perf_counter() - started),
               "modes": counted.modes, "kl": round(counted.kl, 4),
               "channel_kl": [round(k, 4) for k in counted.channel_kl], "unsure": round(unsure, 3),
               "judge_accuracy": judge.accuracy, "started": now_stamp()}
        with RECORD.open("a") as record:
            record.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
