"""A generated class of chapter 1, to calibrate and test the similarity ranking.

Each honest student answers every exercise of chapter 1's notebook with one of several
genuinely different approaches (a stable sigmoid by ``np.where``, by masks, by ``tanh``,
by ``logaddexp``...), in their own words: their own local names, conversions, comments,
intermediate variables and helper functions.  A *copier* takes another student's answers
(the same approaches, the same statements), renames every local variable, rewrites the
comments and puts all the functions, in reverse order, into one cell.

Run it to see the calibration of :data:`autograder.similarity.DEFAULT_THRESHOLD`::

    .venv/bin/python tests/similarity_class.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
from helpers import set_student_id

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_sigmoid"
TEMPLATE = ROOT / "chapters" / ASSIGNMENT / "sigmoid_exercise.ipynb"

NAMES = {
    "v": ["z", "v", "arr", "xs", "values", "inp", "data", "t"],
    "e": ["e", "r", "ex", "expo", "tail", "q", "small", "decay"],
    "out": ["out", "result", "res", "y", "answer", "ret", "probs", "vals"],
    "mask": ["pos", "positive", "mask", "nonneg", "m", "upper", "right", "is_pos"],
    "s": ["s", "sig", "sx", "prob", "p_x", "sv", "h", "a"],
    "ln2": ["ln2", "log2", "LN2", "l2", "log_two", "c"],
}
COMMENTS = [
    "# stable for large |x|",
    "# avoid overflow in exp",
    "# works for arrays and scalars",
    "# see the chapter",
    "# elementwise",
    "# never exponentiate a large positive number",
    "# convert first",
    "# TODO: double-check float32",
    "# from the lecture notes",
    "# two cases",
]
CONVERSIONS = [
    "{v} = np.asarray(x, dtype=float)",
    "{v} = np.array(x, dtype=np.float64)",
    "{v} = np.asarray(x, dtype=np.float64)",
    "{v} = np.asanyarray(x).astype(float)",
    "{v} = np.asarray(x) * 1.0",
]

#: Statements some students add after converting the input (their own checks and habits).
EXTRAS = [
    "{v} = {v}.astype(np.float64, copy=False)",
    "assert np.all(np.isfinite({v})), 'finite inputs only'",
    "{v} = np.squeeze({v})",
    "shape = np.shape({v})",
    "{v} = np.atleast_1d({v})",
    "if {v}.size == 0:\n    return {v}",
]

# Each approach is a list of lines; {v} is the converted input, other fields local names.
SIGMOID = [
    ["{e} = np.exp(-np.abs({v}))", "return np.where({v} >= 0, 1 / (1 + {e}), {e} / (1 + {e}))"],
    [
        "{out} = np.empty_like({v})",
        "{mask} = {v} >= 0",
        "{out}[{mask}] = 1 / (1 + np.exp(-{v}[{mask}]))",
        "{e} = np.exp({v}[~{mask}])",
        "{out}[~{mask}] = {e} / (1 + {e})",
        "return {out}",
    ],
    ["return 0.5 * (1 + np.tanh({v} / 2))"],
    ["return np.exp(-np.logaddexp(0, -{v}))"],
    [
        "{out} = np.zeros_like({v})",
        "for i, value in np.ndenumerate({v}):",
        "    if value >= 0:",
        "        {out}[i] = 1 / (1 + np.exp(-value))",
        "    else:",
        "        {e} = np.exp(value)",
        "        {out}[i] = {e} / (1 + {e})",
        "return {out}",
    ],
    [
        "{e} = np.exp(np.minimum({v}, 0))",
        "{out} = np.exp(np.minimum(-{v}, 0))",
        "return {e} / ({e} + {out})",
    ],
]
SIGMOID_GRAD = [
    ["{s} = sigmoid({v})", "return {s} * (1 - {s})"],
    ["return sigmoid({v}) * sigmoid(-{v})"],
    ["{e} = np.exp(-np.abs({v}))", "return {e} / (1 + {e}) ** 2"],
    ["return 0.25 / np.cosh({v} / 2) ** 2"],
    ["return np.exp(-np.logaddexp(0, {v}) - np.logaddexp(0, -{v}))"],
]
LOGIT = [
    ["return np.log({v} / (1 - {v}))"],
    ["return np.log({v}) - np.log1p(-{v})"],
    ["return 2 * np.arctanh(2 * {v} - 1)"],
    [
        "{e} = 2 * {v} - 1",
        "{mask} = np.abs({e}) < 0.5",
        "{e} = np.where({mask}, {e}, 0)",
        "return np.where({mask}, 2 * np.arctanh({e}), np.log({v} / (1 - {v})))",
    ],
    ["return -np.log(1 / {v} - 1)"],
    ["return np.log({v}) - np.log(1 - {v})"],
]
SECOND = [
    ["{s} = sigmoid({v})", "return {s} * (1 - {s}) * (1 - 2 * {s})"],
    ["return -sigmoid_grad({v}) * np.tanh({v} / 2)"],
    ["{out} = sigmoid_grad({v})", "return {out} * (1 - 2 * sigmoid({v}))"],
    ["return -0.25 * np.tanh({v} / 2) / np.cosh({v} / 2) ** 2"],
    [
        "{e} = np.exp(-np.abs({v}))",
        "return np.sign(-{v}) * {e} * (1 - {e}) / (1 + {e}) ** 3",
    ],
]
# The thresholds: float16's (p, e_min, e_max) = (11, -14, 15), then the student's own format.
THRESHOLDS_EXAMPLE = [
    [
        "def {helper}(p, e_min, e_max):",
        "    {ln2} = np.log(2)",
        "    largest = e_max * {ln2} + np.log(2 - 2.0 ** (1 - p))",
        "    return [-largest, p * {ln2}, (e_min - p) * {ln2}]",
        "",
        "",
        "sigmoid_thresholds_example = {helper}(11, -14, 15)",
    ],
    [
        "sigmoid_thresholds_example = [",
        "    -(15 * np.log(2) + np.log(2 - 2.0 ** -10)),",
        "    11 * np.log(2),",
        "    -25 * np.log(2),",
        "]",
    ],
    [
        "import math",
        "",
        "{ln2} = math.log(2)",
        "{out} = (2 - 2 ** (1 - 11)) * 2.0**15",
        "sigmoid_thresholds_example = [-math.log({out}), 11 * {ln2}, (-14 - 11) * {ln2}]",
    ],
    [
        "{e} = np.finfo(np.float16)",
        "sigmoid_thresholds_example = [",
        "    -np.log(float({e}.max)),",
        "    -np.log(2.0 ** -11),",
        "    np.log(float({e}.smallest_subnormal) / 2),",
        "]",
    ],
]
THRESHOLDS = [
    ["sigmoid_thresholds = {helper}(p_mine, e_min_mine, e_max_mine)"],
    [
        "{ln2} = np.log(2)",
        "sigmoid_thresholds = [",
        "    -(e_max_mine * {ln2} + np.log(2 - 2.0 ** (1 - p_mine))),",
        "    p_mine * {ln2},",
        "    (e_min_mine - p_mine) * {ln2},",
        "]",
    ],
    [
        "import math",
        "",
        "sigmoid_thresholds = [",
        "    -(e_max_mine * math.log(2) + math.log(2 - 2 ** (1 - p_mine))),",
        "    p_mine * math.log(2),",
        "    (e_min_mine - p_mine) * math.log(2),",
        "]",
    ],
]
#: grade id -> (approaches, whether the answer is a function body of x or p).
EXERCISES = {
    "sigmoid": (SIGMOID, "x"),
    "sigmoid_grad": (SIGMOID_GRAD, "x"),
    "logit": (LOGIT, "p"),
    "sigmoid_second_derivative": (SECOND, "x"),
    "sigmoid_thresholds_example": (THRESHOLDS_EXAMPLE, None),
    "sigmoid_thresholds": (THRESHOLDS, None),
}
HELPERS = ["thresholds_for", "thresholds_in", "compute_thresholds", "fmt_thresholds"]
#: A person's habits: each canonical spelling above, and the ways a student may write it.
HABITS = {
    "1 / (1 + ": ["1 / (1 + ", "1.0 / (1.0 + ", "1 / (1.0 + ", "np.reciprocal(1 + "],
    "2 * ": ["2 * ", "2.0 * "],
    "1 - ": ["1 - ", "1.0 - "],
    " >= 0": [" >= 0", " >= 0.0", " > 0"],
    "np.abs(": ["np.abs(", "np.absolute(", "abs("],
    " / 2)": [" / 2)", " * 0.5)", " / 2.0)"],
    "np.log(": ["np.log(", "np.log("],
    " ** 2": [" ** 2", " ** 2.0"],
}


def draw_style(rng: np.random.Generator) -> dict:
    """A student's choices: an approach per exercise, and how they write."""
    return {
        "approach": {name: int(rng.integers(len(e[0]))) for name, e in EXERCISES.items()},
        "conversion": {name: int(rng.integers(len(CONVERSIONS) + 1)) for name in EXERCISES},
        "named_result": {name: bool(rng.random() < 0.3) for name in EXERCISES},
        "extra": {name: int(rng.integers(2 * len(EXTRAS))) for name in EXERCISES},
        "comment": {name: int(rng.integers(len(COMMENTS) + 2)) for name in EXERCISES},
        "helper": HELPERS[int(rng.integers(len(HELPERS)))],
        "habits": {canonical: int(rng.integers(len(ways))) for canonical, ways in HABITS.items()},
    }


def draw_names(rng: np.random.Generator) -> dict[str, str]:
    return {key: pool[int(rng.integers(len(pool)))] for key, pool in NAMES.items()}


def render(style: dict, names: dict[str, str], comments: list[str]) -> dict[str, list[str]]:
    """Each exercise's answer as lines (a function's body, or a cell's statements)."""
    answers = {}
    for name, (approaches, argument) in EXERCISES.items():
        lines = list(approaches[style["approach"][name]])
        fields = dict(names)
        fields["helper"] = style["helper"]
        if argument is not None:
            conversion = style["conversion"][name]
            if conversion == len(CONVERSIONS):
                fields["v"] = argument  # no conversion: the argument itself
            else:
                convert = CONVERSIONS[conversion].replace("(x", f"({argument}")
                lines.insert(0, convert)
            if style["extra"][name] < len(EXTRAS):
                extra = EXTRAS[style["extra"][name]].replace("{v}", fields.get("v", "{v}"))
                lines[1 if conversion < len(CONVERSIONS) else 0 : 0] = extra.split("\n")
            if (
                style["named_result"][name]
                and lines[-1].startswith("return ")
                and lines[-1] != "return {out}"
            ):
                lines[-1:] = [f"{{out}} = {lines[-1][len('return ') :]}", "return {out}"]
        choice = style["comment"][name]
        if choice < len(COMMENTS) and argument is not None:
            lines.insert(choice % len(lines), comments[choice])
        for canonical, ways in HABITS.items():
            lines = [line.replace(canonical, ways[style["habits"][canonical]]) for line in lines]
        answers[name] = [line.format(**fields) for line in lines]
    return answers


def _fill(template_source: str, lines: list[str]) -> str:
    """The template cell with its ``# YOUR CODE HERE`` stub replaced by ``lines``."""
    source = template_source.split("\n")
    for number, line in enumerate(source):
        if line.strip() == "# YOUR CODE HERE":
            indent = line[: len(line) - len(line.lstrip())]
            end = (
                number + 2
                if "NotImplementedError" in "".join(source[number + 1 : number + 2])
                else number + 1
            )
            body = [indent + text if text else "" for text in lines]
            return "\n".join(source[:number] + body + source[end:])
    return "\n".join([template_source, *lines])


def _function(name: str, argument: str | None, lines: list[str]) -> str:
    if argument is None:
        return "\n".join(lines)
    return "\n".join(
        [f"def {name}({argument}):", *("    " + line if line else "" for line in lines)]
    )


def template() -> dict:
    return json.loads(TEMPLATE.read_text(encoding="utf-8"))


def notebook_for(student: str, answers: dict[str, list[str]], together: bool = False) -> dict:
    """The template filled in: each answer in its cell, or (``together``) every function in
    reverse order in the first answer's cell and the other cells left as released."""
    notebook = template()
    cells = {
        c["metadata"].get("nbgrader", {}).get("grade_id"): c
        for c in notebook["cells"]
        if c["cell_type"] == "code"
    }
    set_student_id(notebook, student)
    if together:
        functions = [
            _function(name, EXERCISES[name][1], lines) for name, lines in reversed(answers.items())
        ]
        first = next(name for name in answers if name in cells)
        cells[first]["source"] = "\n\n\n".join(functions)
        return notebook
    for name, lines in answers.items():
        if name in cells:
            source = cells[name]["source"]
            source = source if isinstance(source, str) else "".join(source)
            cells[name]["source"] = _fill(source, lines)
        else:  # an exercise the released notebook does not have (yet): a cell of its own
            notebook["cells"].append(
                {
                    "cell_type": "code",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": _function(name, EXERCISES[name][1], lines),
                }
            )
    return notebook


def write(submitted: Path, student: str, notebook: dict) -> Path:
    folder = submitted / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TEMPLATE.name
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def honest_class(submitted: Path, students: int, seed: int = 2026) -> dict[str, dict]:
    """``students`` honest notebooks in ``submitted``; returns each student's style."""
    rng = np.random.default_rng(seed)
    styles = {}
    for number in range(students):
        student = f"honest{number:03d}"
        style = draw_style(rng)
        comments = list(rng.permutation(COMMENTS))
        write(submitted, student, notebook_for(student, render(style, draw_names(rng), comments)))
        styles[student] = style
    return styles


def copy_of(style: dict, seed: int) -> dict[str, list[str]]:
    """Another student's approaches and statements, every local name and comment changed."""
    rng = np.random.default_rng(seed)
    names = {key: f"{value}_{key}2" for key, value in draw_names(rng).items()}
    copied = dict(style, helper=style["helper"] + "_v2")
    return render(copied, names, [c.replace("#", "# note:") for c in COMMENTS])


def partial(student: str, name: str, lines: list[str]) -> dict:
    """The released notebook with the id set and only one exercise answered."""
    return notebook_for(student, {name: lines})


#: The classes the default threshold was calibrated on: (honest students, seed).
CALIBRATION = ((60, 2026), (60, 1), (60, 2), (200, 2026))
COPIES = 5


def calibration_class(submitted: Path, students: int, seed: int) -> list[set[str]]:
    """An honest class, and ``COPIES`` copiers each copying one of its students."""
    styles = honest_class(submitted, students, seed)
    pairs = []
    for number, original in enumerate(sorted(styles)[:COPIES]):
        copier = f"copier{number}"
        write(submitted, copier, notebook_for(copier, copy_of(styles[original], number), True))
        pairs.append({original, copier})
    return pairs


def main() -> None:
    """Print the score distribution of each calibration class, and its copies' scores."""
    from autograder.similarity import DEFAULT_THRESHOLD, rank

    for students, seed in CALIBRATION:
        with tempfile.TemporaryDirectory() as folder:
            copies = calibration_class(Path(folder), students, seed)
            result = rank(Path(folder), ASSIGNMENT)
        copied = [p for p in result.pairs if {p.student_a, p.student_b} in copies]
        honest = np.array(
            [
                p.score
                for p in result.pairs
                if not (p.student_a.startswith("copier") or p.student_b.startswith("copier"))
            ]
        )
        q90, q99, q999 = np.quantile(honest, [0.9, 0.99, 0.999])
        print(
            f"{students} honest students (seed {seed}), {len(honest)} pairs: median "
            f"{statistics.median(honest):.2f}, 90th percentile {q90:.2f}, 99th {q99:.2f}, "
            f"99.9th {q999:.2f}, largest {honest.max():.2f}; "
            f"{int((honest > DEFAULT_THRESHOLD).sum())} above {DEFAULT_THRESHOLD:g}"
        )
        lowest_rank = max(result.pairs.index(p) + 1 for p in copied)
        print(
            f"  {len(copied)} copies: {', '.join(f'{p.score:.2f}' for p in copied)} "
            f"(all within the top {lowest_rank} pairs)"
        )


if __name__ == "__main__":
    main()
