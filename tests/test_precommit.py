"""The published pre-commit hook, run by the real pre-commit against a repository with a bug."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUGGY = """import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 16, 3),
    nn.Conv2d(32, 8, 3),
)
y = model(torch.randn(1, 3, 32, 32))
"""


def _git(cwd, *args, env):
    subprocess.run(["git", *args], cwd=cwd, check=True, env=env, capture_output=True)


def test_pre_commit_try_repo_reports_the_finding(tmp_path):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", PRE_COMMIT_HOME=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)  # the hook must run from its own installed environment
    # Copy the hook repository so uncommitted work in the checkout is what gets tested.
    hook_repo = tmp_path / "hook"
    shutil.copytree(ROOT, hook_repo, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build",
                                                                   ".pytest_cache", ".corpus"))
    _git(hook_repo, "init", "-q", env=env)
    _git(hook_repo, "add", "-A", env=env)
    _git(hook_repo, "commit", "-qm", "hook", env=env)
    project = tmp_path / "project"
    project.mkdir()
    (project / "net.py").write_text(BUGGY)
    _git(project, "init", "-q", env=env)
    _git(project, "add", "net.py", env=env)
    result = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "shapelint",
                             "--all-files"], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "net.py:6:5: SL101 Conv2d expects 32 input channels but receives 16" in output, output


def _readme_block(heading: str, language: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


NOTEBOOK = """{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,
  "source": ["import torch\\n", "import torch.nn as nn\\n", "model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(8, 8, 3))\\n",
             "y = model(torch.randn(1, 3, 32, 32))\\n"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
"""


def test_the_readme_snippet_runs_on_notebooks_and_honours_exclude(tmp_path):
    """The README's .pre-commit-config.yaml, as written (the clone's path filled in), against a
    repository whose release tag is the README's rev: notebooks are linted, exclude holds."""
    config = _readme_block("pre-commit", "yaml")
    rev = config.split("rev:", 1)[1].split()[0]
    version = (ROOT / "pyproject.toml").read_text().split('\nversion = "', 1)[1].split('"', 1)[0]
    assert rev == f"v{version}", "the README names the release the package declares"
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", PRE_COMMIT_HOME=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    hook_repo = tmp_path / "shapelint"
    shutil.copytree(ROOT, hook_repo, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build",
                                                                   ".pytest_cache", ".corpus"))
    _git(hook_repo, "init", "-q", env=env)
    _git(hook_repo, "add", "-A", env=env)
    _git(hook_repo, "commit", "-qm", "release", env=env)
    _git(hook_repo, "tag", rev, env=env)
    _git(hook_repo, "commit", "-q", "--allow-empty", "-m", "after the release", env=env)
    project = tmp_path / "project"
    (project / "third_party").mkdir(parents=True)
    (project / "net.py").write_text(BUGGY)
    (project / "third_party" / "vendored.py").write_text(BUGGY)
    (project / "analysis.ipynb").write_text(NOTEBOOK)
    (project / "pyproject.toml").write_text('[tool.shapelint]\nexclude = ["third_party/*"]\n')
    (project / ".pre-commit-config.yaml").write_text(config.replace("/path/to/shapelint", str(hook_repo)))
    _git(project, "init", "-q", env=env)
    _git(project, "add", "-A", env=env)
    result = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "net.py:6:5: SL101 Conv2d expects 32 input channels but receives 16" in output, output
    assert "analysis.ipynb:cell 1:3:44: SL101 Conv2d expects 8 input channels but receives 16" in output, output
    assert "third_party" not in output, output
