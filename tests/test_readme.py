"""The README's library examples run as pasted.

Every ```python block of README.md runs, in the order of the file and in one namespace (as a
reader pasting them one after the other into a Python session), in a folder that holds what
the examples name: ``photo.jpg`` and ``card.png`` (sample photos the samples/ generator drew)
and ``my-policy.toml`` (a policy written here). A block that cannot run here (a Ray cluster, a
server) opts out with a line ``# readme: not run``; any other block that raises fails the test,
naming its line in README.md. The blocks are found with a Markdown parser, not a regex, so
other sections being rewritten (lists, indented fences, ~~~ fences) do not hide or break one.
"""

import shutil
import traceback
from pathlib import Path

import numpy as np
import pytest
from conftest import draw_wall, fake_redactor
from markdown_it import MarkdownIt

from redactor import DecisionsError, PolicyError, Redactor, UnreadableImageError

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
OPT_OUT = "# readme: not run"
LANGUAGES = {"python", "py", "python3"}

#: The policy file the examples load: one of each kind of setting, valid as the README says.
POLICY = """\
version = 1
[actions]
face = "pixelate"
[lists]
allow = ["Nathan Road"]
deny = ["Cafe"]
"""


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """(first line of the code in the file, 1-based; code) of each python block not opted out."""
    blocks = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type != "fence" or not token.info.split() or token.info.split()[0].lower() not in LANGUAGES:
            continue
        if any(line.strip() == OPT_OUT for line in token.content.splitlines()):
            continue
        assert token.map is not None
        blocks.append((token.map[0] + 2, token.content))  # map[0] is the fence's own line, 0-based
    return blocks


def run_blocks(blocks: list[tuple[int, str]], where: Path) -> dict:
    """Run the blocks in one namespace; an AssertionError names the block that raised and how."""
    namespace: dict = {"__name__": "__readme__"}
    for line, code in blocks:
        # Padded with blank lines, so that a traceback shows the README's own line numbers.
        compiled = compile("\n" * (line - 1) + code, str(where), "exec")
        try:
            exec(compiled, namespace)
        except Exception as e:  # noqa: BLE001 - whatever a block raises fails the test, with its trace
            trace = "".join(traceback.format_exception(e))
            raise AssertionError(f"{where}:{line}: the python block there raised {type(e).__name__}: {e}\n"
                                 f"{trace}") from e
    return namespace


def test_blocks_are_found_opted_out_and_a_raising_block_fails(tmp_path):
    markdown = ("Text\n\n```python\nx = 1\n```\n\n- a list\n\n  ```py\n  y = x + 1\n  ```\n\n"
                "~~~python\n# readme: not run\nimport ray\n~~~\n\n```sh\nexit 1\n```\n\n```python\nz = y * 10\n```\n")
    blocks = python_blocks(markdown)
    assert [line for line, _ in blocks] == [4, 10, 23]
    assert run_blocks(blocks, tmp_path / "X.md")["z"] == 20
    with pytest.raises(AssertionError, match=r"X\.md:2: .* NameError: name 'nowhere' is not defined"):
        run_blocks(python_blocks("```python\nnowhere\n```\n"), tmp_path / "X.md")


@pytest.mark.models
def test_the_readme_python_blocks_run_as_pasted(tmp_path, monkeypatch):
    blocks = python_blocks(README.read_text("utf-8"))
    assert len(blocks) >= 2, "the README's library examples were not found"
    shutil.copy(ROOT / "samples" / "street_car.jpg", tmp_path / "photo.jpg")
    shutil.copy(ROOT / "samples" / "name_card.png", tmp_path / "card.png")
    (tmp_path / "my-policy.toml").write_text(POLICY, "utf-8")
    monkeypatch.chdir(tmp_path)
    run_blocks(blocks, README)


def test_wrong_arguments_to_the_library_are_redactor_errors_that_say_what_to_pass(tmp_path, fake_engines):
    with pytest.raises(PolicyError, match=r"takes a Policy, not str: Policy\.load\(path\) reads a policy file"):
        Redactor(policy="my-policy.toml")
    r = fake_redactor()
    wall = draw_wall(tmp_path / "wall.png")
    with pytest.raises(UnreadableImageError, match="<int>: not an image; pass a path, bytes"):
        r.redact(123)
    decisions = r.analyse(wall)
    with pytest.raises(DecisionsError, match="unknown action 'blurred'; use one of fill, blur, pixelate"):
        decisions.with_box((10, 10, 50, 50), "name", "blurred")
    pair = decisions.with_box((10, 10, 50, 50), "name", "fill")
    with pytest.raises(DecisionsError, match=r"not tuple \(with_box returns the new decisions and the box's id"):
        r.render(wall, pair)
    edited, box_id = pair
    assert box_id == "box-1" and r.render(wall, edited).mask[10:50, 10:50].all()
    assert np.asarray(r.render(wall, edited).image).shape == (240, 320, 3)
