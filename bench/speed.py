"""Speed of shapelint next to its floor (LibCST's parse, ast.parse) on the same files.

    python bench/speed.py [--files DIR ...] [--quick]

Without --files it uses the torchvision/timm model sources unpacked by bench/corpus.py under
bench/.corpus/, or generated model files when those are absent.  Prints one table per figure:
throughput against LibCST's and ast's parse, the whole CLI with --jobs and a warm cache (and
TorchShapeFlow's ``tsf check`` when installed, or TSF=/path/to/tsf), cold start, scaling in
layers (torch Sequential, Keras functional) and in files, and the language server's keystroke
latency (bench/lsp_latency.py, when pygls is installed).
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generated_sequential(layers: int) -> str:
    body = []
    for i in range(layers):
        body.append("    nn.Conv2d(8, 8, 3, padding=1),")
        if i % 2:
            body.append("    nn.ReLU(),")
    return ("import torch\nimport torch.nn as nn\n\nmodel = nn.Sequential(\n    nn.Conv2d(3, 8, 3, padding=1),\n"
            + "\n".join(body) + "\n)\ny = model(torch.randn(1, 3, 32, 32))\n")


def generated_functional(layers: int) -> str:
    """A Keras functional model: a chain of 'same' convolutions with a residual add every 4."""
    body = ["import keras", "from keras import layers", "", "inputs = keras.Input((32, 32, 8))", "x = inputs"]
    for i in range(layers):
        body.append(f"x = layers.Conv2D(8, 3, padding='same', name='c{i}')(x)")
        if i % 4 == 3:
            body.append("x = layers.Add()([x, inputs])")
    body.append("model = keras.Model(inputs, x)")
    return "\n".join(body) + "\n"


def generated_module(i: int) -> str:
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F


class Net{i}(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


net = Net{i}()
out = net(torch.randn(1, 3, 32, 32))
'''


BLOCKS_MODULE = """import torch.nn as nn


def conv_bn(in_ch, out_ch, stride=1):
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU())


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x)) + x
"""


def project_module(i: int) -> str:
    """One model file of a generated project, built from blocks of ``pkg.blocks``."""
    return f'''import torch
import torch.nn as nn

from pkg.blocks import Block, conv_bn

def stem{i}(width={8 + i % 8}):
    return conv_bn(3, width, 2)


class Net{i}(nn.Module):
    def __init__(self, width={8 + i % 8}):
        super().__init__()
        self.stem = stem{i}(width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(3)])
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


out = Net{i}()(torch.randn(2, 3, 32, 32))
'''


def corpus_files() -> list[str]:
    base = ROOT / "bench" / ".corpus"
    found = []
    for pattern in ("**/torchvision/models/**/*.py", "**/timm/models/**/*.py"):
        found += [str(p) for p in base.glob(pattern)]
    return sorted(set(found))


def timed(func, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def run_cli(*args) -> float:
    # As an installed shapelint runs: from compiled bytecode (a checkout may have it disabled).
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "shapelint", *args], env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", nargs="*", help="directories or files to measure on")
    parser.add_argument("--quick", action="store_true", help="skip the 10000-layer model and 1000-file scaling")
    args = parser.parse_args()

    import libcst

    from shapelint.api import collect_files, lint_source

    tmp = Path(tempfile.mkdtemp(prefix="shapelint-bench-"))
    files = collect_files(args.files) if args.files else corpus_files()
    origin = "given files" if args.files else "torchvision + timm model sources"
    if not files:
        origin = "generated files"
        for i in range(100):
            (tmp / "gen").mkdir(exist_ok=True)
            (tmp / "gen" / f"net{i}.py").write_text(generated_module(i))
        files = collect_files([str(tmp / "gen")])
    datas = [Path(f).read_bytes() for f in files]
    megabytes = sum(len(d) for d in datas) / 1e6

    print(f"# Throughput on {len(files)} {origin} ({megabytes:.2f} MB), one process, no cache")
    t_ast = timed(lambda: [ast.parse(d) for d in datas])
    t_cst = timed(lambda: [libcst.parse_module(d) for d in datas])
    t_lint = timed(lambda: [lint_source(d, f) for f, d in zip(files, datas)])
    t_whole = timed(lambda: [lint_source(d, f, prune="never") for f, d in zip(files, datas)])
    print("| what | seconds | files/s | MB/s |\n|---|---|---|---|")
    for name, t in (("ast.parse", t_ast), ("libcst.parse_module", t_cst), ("shapelint (in-process)", t_lint),
                    ("shapelint, whole files (prune='never')", t_whole)):
        print(f"| {name} | {t:.2f} | {len(files) / t:.0f} | {megabytes / t:.2f} |")
    print(f"\nshapelint / LibCST parse = {t_lint / t_cst:.2f} (whole files: {t_whole / t_cst:.2f})")
    from shapelint.frontends import FUNCTION_ROOTS, IMPORT_ROOTS
    from shapelint.prune import prune

    lines = sum(d.count(b"\n") + 1 for d in datas)
    parsed = {}
    for always in (False, True):
        pruned = [prune(d, IMPORT_ROOTS, always, FUNCTION_ROOTS) for d in datas]
        parsed[always] = sum(p.kept_lines if p else d.count(b"\n") + 1 for p, d in zip(pruned, datas))
    print(f"lines parsed: {100 * parsed[False] / lines:.1f}% of {lines} (pruning wherever it can: "
          f"{100 * parsed[True] / lines:.1f}%)")

    listing = tmp / "tree"
    listing.mkdir()
    for i, (f, d) in enumerate(zip(files, datas)):
        (listing / f"{i:04d}_{Path(f).name}").write_bytes(d)
    print("\n# Whole CLI on that tree (`check --no-cache`)")
    print("| jobs | seconds |\n|---|---|")
    for jobs in sorted({1, os.cpu_count() or 1}):
        print(f"| {jobs} | {run_cli('check', '--no-cache', '-j', str(jobs), '--exit-zero', str(listing)):.2f} |")
    cache = tmp / "cache"
    run_cli("check", "--cache-dir", str(cache), "--exit-zero", str(listing))
    print(f"| warm cache | {run_cli('check', '--cache-dir', str(cache), '--exit-zero', str(listing)):.2f} |")
    import shutil

    tsf = os.environ.get("TSF") or shutil.which("tsf")  # TorchShapeFlow, the nearest static peer
    if tsf:
        start = time.perf_counter()
        subprocess.run([tsf, "check", str(listing)], capture_output=True, check=False)
        print(f"| TorchShapeFlow `tsf check` (same tree) | {time.perf_counter() - start:.2f} |")
    else:
        print("| TorchShapeFlow | not installed (pip install torchshapeflow; or set TSF=/path/to/tsf) |")

    one = tmp / "one_model.py"
    one.write_text(generated_module(0))
    print("\n# Cold start on one model file")
    print("| command | seconds |\n|---|---|")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=False)
    print(f"| python -c pass | {time.perf_counter() - start:.3f} |")
    parse_times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import libcst; libcst.parse_module(open({str(one)!r}).read())"],
                       check=False)
        parse_times.append(time.perf_counter() - start)
    print(f"| import libcst + parse | {min(parse_times):.3f} |")
    run_cli("check", "--no-cache", str(one))  # writes the bytecode once
    print(f"| shapelint check one_model.py | {min(run_cli('check', '--no-cache', str(one)) for _ in range(5)):.3f} |")
    start = time.perf_counter()
    torch = subprocess.run([sys.executable, "-c", "import torch"], check=False, capture_output=True)
    if torch.returncode == 0:
        print(f"| python -c 'import torch' | {time.perf_counter() - start:.3f} |")

    for title, generate in (("one generated nn.Sequential", generated_sequential),
                            ("one generated Keras functional model", generated_functional)):
        print(f"\n# Scaling with model size ({title})")
        print("| layers | lines | parse s | shapelint s | ratio |\n|---|---|---|---|---|")
        for layers in (10, 100, 1000) + (() if args.quick else (10000,)):
            text = generate(layers)
            tp = timed(lambda: libcst.parse_module(text), 2)
            tl = timed(lambda: lint_source(text, "gen.py"), 2)
            print(f"| {layers} | {text.count(chr(10))} | {tp:.3f} | {tl:.3f} | {tl / tp:.2f} |")

    print("\n# Scaling with file count (generated modules, in-process)")
    print("| files | seconds | per file ms |\n|---|---|---|")
    sources = [generated_module(i) for i in range(100 if args.quick else 1000)]
    for count in (10, 100) + (() if args.quick else (1000,)):
        # keep the diagnostics only, as the command line does (a parsed tree per file would make the
        # collector slower the more files are held)
        t = timed(lambda: [lint_source(s, f"n{i}.py").diagnostics for i, s in enumerate(sources[:count])])
        print(f"| {count} | {t:.2f} | {1000 * t / count:.1f} |")

    print("\n# A generated project of 200 files, all importing one module (`check`, one process)")
    project = tmp / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'generated'\n")
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "blocks.py").write_text(BLOCKS_MODULE)
    for i in range(199):
        (project / "pkg" / f"net{i:03d}.py").write_text(project_module(i))
    cache = tmp / "project-cache"
    print("| run | seconds |\n|---|---|")
    print(f"| cold, no cache | {run_cli('check', '--no-cache', '-j', '1', str(project)):.2f} |")
    run_cli("check", "-j", "1", "--cache-dir", str(cache), str(project))
    print(f"| warm cache, nothing changed | {run_cli('check', '-j', '1', '--cache-dir', str(cache), str(project)):.2f} |")
    edited = project / "pkg" / "net100.py"
    edited.write_text(edited.read_text() + "\n# edited\n")
    print(f"| one model file edited (only it is checked again) | "
          f"{run_cli('check', '-j', '1', '--cache-dir', str(cache), str(project)):.2f} |")
    print(f"| that file alone, `check pkg/net100.py` (warm) | "
          f"{run_cli('check', '-j', '1', '--cache-dir', str(cache), str(edited)):.2f} |")
    blocks = project / "pkg" / "blocks.py"
    blocks.write_text(blocks.read_text() + "\n# edited\n")
    print(f"| pkg/blocks.py edited (every file imports it) | "
          f"{run_cli('check', '-j', '1', '--cache-dir', str(cache), str(project)):.2f} |")

    print("\n# Language server: keystroke (didChange) to publishDiagnostics, ~1,000-line model file")
    import importlib.util

    if importlib.util.find_spec("pygls") is None:
        print("pygls is not installed here (pip install 'shapelint[lsp]'); bench/lsp_latency.py measures it")
    else:
        subprocess.run([sys.executable, str(Path(__file__).with_name("lsp_latency.py")), "--edits", "10"],
                       check=False)


if __name__ == "__main__":
    main()
