"""What ``python -m sk_conse`` prints and writes: tables, CSV, figure, progress.

Presentation only, for ``sk_conse._main``: no estimator module imports it.
"""

from __future__ import annotations

import csv
import os
import platform
from pathlib import Path

import numpy as np

from ._progress import progress

__all__ = ["progress"]


def _columns(result: dict) -> list[tuple[str, str]]:
    cols = [(f"zsl_hit@{k}", f"ZSL hit@{k}") for k in result["zsl_ks"]]
    cols += [(f"gzsl_hit@{k}", f"+seen hit@{k}") for k in result["gzsl_ks"]]
    return cols


#: The generalized columns: (row key, title, format).
_GZSL_COLUMNS = (
    ("h_before", "H p=0", "{:.3f}"),
    ("penalty", "penalty", "{:.2f}"),
    ("acc_s_after", "acc seen", "{:.3f}"),
    ("acc_u_after", "acc unseen", "{:.3f}"),
    ("h_after", "H tuned", "{:.3f}"),
)


def _format_table(result: dict) -> str:
    cols = _columns(result)
    n_unseen = len(result["unseen"])
    header = ["T"] + [title for _, title in cols] + ["|"]
    header += [title for _, title, _ in _GZSL_COLUMNS]
    lines = [header]
    for row in result["rows"]:
        T = str(row["T"])
        if row["T"] != row["T_used"]:
            T += f" (={row['T_used']})"
        line = [T] + [f"{row[key]:.3f}" for key, _ in cols] + ["|"]
        line += [fmt.format(row[key]) for key, _, fmt in _GZSL_COLUMNS]
        lines.append(line)
    chance = ["chance"]
    for key, _ in cols:
        k = int(key.split("@")[1])
        pool = n_unseen if key.startswith("zsl") else 10
        chance.append(f"{min(k, pool) / pool:.3f}")
    lines.append(chance + ["|"] + [""] * len(_GZSL_COLUMNS))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(w) for cell, w in zip(line, widths)).rstrip()
        for line in lines
    )


def _rst_summary(results: list[dict], embeddings: str) -> str:
    """A grid-free reST simple table: one row per split and T."""
    header = [
        "unseen classes",
        "T",
        "ZSL hit@1",
        "+seen hit@1",
        "+seen hit@5",
        "H p=0",
        "penalty",
        "H tuned",
    ]
    body = []
    for result in results:
        for row in result["rows"]:
            body.append(
                [
                    ", ".join(result["unseen"]),
                    str(row["T"]),
                    f"{row['zsl_hit@1']:.3f}",
                    f"{row['gzsl_hit@1']:.3f}",
                    f"{row.get('gzsl_hit@5', float('nan')):.3f}",
                    f"{row['h_before']:.3f}",
                    f"{row['penalty']:.2f}",
                    f"{row['h_after']:.3f}",
                ]
            )
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join(
        [
            f"ConSE on Fashion-MNIST, {embeddings} label embeddings:",
            "",
            rule,
            fmt(header),
            rule,
            *(fmt(r) for r in body),
            rule,
        ]
    )


_CSV_KEYS = [
    "zsl_hit@1",
    "zsl_hit@2",
    "gzsl_hit@1",
    "gzsl_hit@2",
    "gzsl_hit@5",
    "acc_s_before",
    "acc_u_before",
    "h_before",
    "penalty",
    "cv_h",
    "acc_s_after",
    "acc_u_after",
    "h_after",
]


def _machine() -> str:
    """The CPU, its core count and the BLAS kernel, in a few words."""
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line for line in f if line.startswith("model name"))
        cpu = cpu.split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    blas = sorted(
        {
            f"{i['internal_api']}/{i.get('architecture', '?')}"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        }
    )
    return f"{cpu} ({os.cpu_count()} CPUs, BLAS {', '.join(blas) or '?'})"


def _write_csv(results: list[dict], path: Path, embeddings: str) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "embeddings",
                "unseen",
                "n_train",
                "n_test",
                "n_gzsl_test",
                "seen_accuracy",
                "T",
                *_CSV_KEYS,
            ]
        )
        for result in results:
            for row in result["rows"]:
                writer.writerow(
                    [
                        embeddings,
                        "|".join(result["unseen"]),
                        result["n_train"],
                        result["n_test"],
                        result["n_gzsl_test"],
                        f"{result['seen_accuracy']:.4f}",
                        row["T"],
                    ]
                    + [f"{row[k]:.4f}" if k in row else "" for k in _CSV_KEYS]
                )


def _plot(results: list[dict], path: Path, embeddings: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(
        2, n, figsize=(4.2 * n, 7.4), squeeze=False, constrained_layout=True
    )
    for j, result in enumerate(results):
        ax = axes[0, j]
        Ts = [row["T"] for row in result["rows"]]
        for key, label, style in (
            ("zsl_hit@1", "zero-shot hit@1", "o-"),
            ("gzsl_hit@1", "+seen hit@1", "s--"),
            ("gzsl_hit@5", "+seen hit@5", "^:"),
            ("h_before", "H, seen_penalty=0", "x-."),
            ("h_after", "H, tuned seen_penalty", "D-"),
        ):
            ax.plot(Ts, [row[key] for row in result["rows"]], style, label=label)
        ax.axhline(1 / len(result["unseen"]), color="grey", lw=0.8, ls="-.")
        ax.text(Ts[0], 1 / len(result["unseen"]) + 0.01, "ZSL chance", fontsize=8)
        ax.set_xscale("log")
        ax.set_xticks(Ts, [str(t) for t in Ts])
        ax.minorticks_off()
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("T (seen labels combined)")
        ax.set_title("unseen: " + ", ".join(result["unseen"]), fontsize=10)
        if j == 0:
            ax.set_ylabel("hit@k on unseen test images; H on all")
            ax.legend(fontsize=8, loc="lower left")

        ax = axes[1, j]
        cm = result["confusion"]
        unseen = result["unseen"]
        rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(rates, vmin=0, vmax=1, cmap="Blues")
        for (r, c), value in np.ndenumerate(rates):
            ax.text(
                c,
                r,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="white" if value > 0.5 else "black",
            )
        ax.set_xticks(range(len(unseen)), unseen, rotation=30, ha="right")
        ax.set_yticks(range(len(unseen)), unseen)
        ax.set_xlabel(f"predicted (zero-shot, T={result['confusion_T']})")
        if j == 0:
            ax.set_ylabel("true class")
    fig.suptitle(f"ConSE zero-shot on Fashion-MNIST ({embeddings} label embeddings)")
    fig.savefig(path, dpi=110)
    plt.close(fig)
