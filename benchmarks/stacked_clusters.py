"""How nearly one digit per channel are the clusters cluster_cgan finds on Stacked MNIST?

cluster_cgan conditions on k-means clusters of the training images' principal components
(`ClusterCGAN.fit_clusters`). It balances digits as far as each cluster is nearly one digit.
For each number of clusters asked for, this fits the same clustering on stacked_mnist's
60,000 training triples (and on the 4,000 single mnist_5k digits, for comparison) and
reads, per channel, the share of images whose digit is their cluster's most common one
(purity), from the data's own labels, which the model never sees.

    python benchmarks/stacked_clusters.py --clusters 50,100,400,1000

Appends one record per clustering to docs/results/stacked_clusters.jsonl as it finishes
and rewrites docs/results/stacked_clusters.md from the records.
"""

import argparse
import pathlib
import time

import numpy as np
from reporting import keep, now_stamp, read_records

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
RECORD, REPORT = RESULTS / "stacked_clusters.jsonl", RESULTS / "stacked_clusters.md"


def channel_digits(data, y):
    """(N, channels) digits: a stacked label abc is digits a, b, c; a single digit is one channel."""
    y = np.asarray(y)
    return np.stack([y // 100, (y // 10) % 10, y % 10], 1) if data == "stacked_mnist" else y[:, None]


def purity(clusters, digits):
    """Per channel: the share of examples whose digit is their cluster's most common one."""
    return [float(sum(np.bincount(digits[clusters == c, channel], minlength=10).max()
                      for c in np.unique(clusters)) / len(clusters)) for channel in range(digits.shape[1])]


def write_report(rows):
    lines = ["# Stacked MNIST: how nearly one digit per channel cluster_cgan's clusters are", "",
             "Command: `python benchmarks/stacked_clusters.py --clusters K,...`. The clustering cluster_cgan fits "
             "before training (50 principal components, k-means with 4 starts, seed 0) on each data set's train "
             "split; purity per channel: the share of images whose digit is their cluster's most common one in that "
             "channel, read with the data's own labels. One digit per cluster would give 100%; clusters blind to "
             "digits give about 10%.", "",
             f"Clusterings attempted: {len(rows)}; failed: {sum('error' in r for r in rows)}.", "",
             "| data | clusters | purity per channel | seconds | at |", "|---|---|---|---|---|"]
    for r in rows:
        cells = f"failed: {r['error']} | |" if "error" in r else \
            f"{', '.join(f'{p:.1%}' for p in r['purity'])} | {r['seconds']} |"
        lines.append(f"| {r['data']} | {r['clusters']} | {cells} {r['at']} |")
    REPORT.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", default="50,100,400,1000")
    parser.add_argument("--data", default="mnist_5k,stacked_mnist")
    args = parser.parse_args()
    import keras_gan_zoo as zoo

    rows = read_records(RECORD)
    for data in args.data.split(","):
        x, y = zoo.data.load_arrays(data, "train")
        for k in (int(k) for k in args.clusters.split(",")):
            row = {"data": data, "clusters": k, "at": now_stamp()}
            try:
                clock = time.perf_counter()
                model = zoo.create("cluster_cgan", data_shape=x.shape[1:], clusters=k, seed=0)
                model.fit_clusters(x)
                row.update(purity=purity(np.asarray(model.cluster(x)), channel_digits(data, y)),
                           seconds=round(time.perf_counter() - clock))
            except Exception as error:
                row["error"] = f"{type(error).__name__}: {error}"[:300]
            keep(row, rows, RECORD, write_report)


if __name__ == "__main__":
    main()
