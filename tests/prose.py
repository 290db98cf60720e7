"""Prose pinned to outputs: every number a "What you should see" paragraph quotes must be printed.

``unpinned(nb)`` takes an executed notebook (nbformat) and returns the quoted numbers that no
code cell printed. The rules, in full:

Where. A *paragraph* is the text of a Markdown cell from ``What you should see`` to the next
blank line. Its *window* is the code cells after the previous such paragraph (or the start of
the notebook) up to the paragraph's own cell: the cells whose results it describes.
Their *printed numbers* come from stream output and ``text/plain`` results.

Match. A quoted number matches a printed one when the printed value, rounded to the quoted
precision, equals it: ``0.98`` matches ``0.9812``, ``91`` matches ``90.6``, ``1,234`` and
``1234`` are the same number, ``22.7 billion`` (or ``22.7 B``; also k, M, G, T) matches
``22,658,000,000``. Signs are ignored
(a hyphen and a minus are too easily confused in prose). A percentage ``12 %`` also matches
``0.12`` printed to the same precision. A power of ten written ``1e-7`` is an order of
magnitude: it matches a printed non-zero number within a factor of 10 either way.

Ranges. A result that depends on the machine (training, timing) is quoted as a range that holds on
every machine: ``8–12 %`` (an en dash) or ``between 0.30 and 0.45``. It matches when some printed
number lies in it, widened by half the quoted precision (``8–12 %`` takes 7.6 % to 12.4 %, and
0.076 to 0.124). Each end follows the rules below like a single number (a name or a setting is not a
range's end); a hyphen is subtraction, never a range.

Not checked, because they are not results:

* names: digits glued to a letter, underscore or a hyphen after a letter
  (``conv1d``, ``2D``, ``float32``, ``MNIST-1D``, ``ResNet-50``);
* references: the number after lecture(s), section(s), cell(s), layer(s), row(s), column(s),
  chapter, Fig./Figure, Table, Eq., problem set, and a year (1900-2099 written without a separator);
* settings: the number after ``name=`` or ``name = `` (``K=3``, ``stride=2``, ``C = 64``) or after
  a setting's name in words: kernel (size), stride, padding, dilation, window, seed;
* operands: a number next to an arithmetic operator (``+ - − × · / ^ *``), as in ``3×3``,
  ``(5 − 3)/1 + 1 = 3`` (only the ``3`` after ``=`` is a result) or ``32 × (96 + 1)``;
* numbers in code blocks, HTML tags and comments, and link targets;
* numbers listed in an opt-out comment in the cell, which must give a reason::

      <!-- not outputs: 224, 11; reason: the paper's input size and kernel, quoted -->

  Keep these rare: prefer printing the number in the cell above.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

MARKER = "What you should see"
_SCALE = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12, "k": 3, "M": 6, "G": 9, "B": 9, "T": 12}
_NUMBER = re.compile(
    r"(?P<sign>[-−])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?(?:[eE](?P<exp>[-−+]?\d+))?")
_REFERENCE = re.compile(
    r"(?:\blectures?|\bsections?|\bcells?|\blayers?|\brows?|\bcolumns?|\bchapters?|\bfig\.|\bfigures?|\btables?|\beq\.|"
    r"\bequations?|\bproblem sets?)\s*(?:\d+\s*(?:,|and|or|to|–|-)\s*)*\Z", re.I)
_SETTING = re.compile(
    r"(?:[A-Za-z_][\w.]*\s*=|\b(?:kernel(?: size)?|strides?|dilations?|padding|window|seed)s?)\s*\Z", re.I)
_OPERATORS = "+-−×·/^*÷"
_END = r"[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_RANGE = re.compile(rf"\bbetween\s+(?P<low>{_END})\s?%?\s+and\s+(?P<high>{_END})|(?P<low2>{_END})\s?%?\s?–\s?(?P<high2>{_END})")
_OPT_OUT = re.compile(r"<!--\s*not outputs:(?P<numbers>[^;>]*);\s*reason:(?P<reason>[^>]*?)-->", re.S)
_SKIPPED = [
    re.compile(r"```.*?```", re.S),          # code blocks
    re.compile(r"<!--.*?-->", re.S),         # comments (opt-outs are read separately)
    re.compile(r"<[^>]*>"),                  # HTML tags
    re.compile(r"\]\([^)]*\)"),              # link targets
    re.compile(r"https?://\S+"),             # bare links
]


@dataclass(frozen=True)
class Unpinned:
    """A number quoted in a "What you should see" paragraph that no cell in its window printed."""

    cell: int
    number: str
    context: str

    def __str__(self):
        return f"cell {self.cell}: {self.number!r} is not printed by the cells above it ({self.context!r})"


@dataclass(frozen=True)
class Quoted:
    text: str
    value: Decimal        # what the prose says (sign dropped)
    quantum: Decimal      # the precision it is quoted to
    percent: bool
    magnitude: bool       # 1e-N: an order of magnitude
    high: Decimal = None  # a range's upper end (``value`` is its lower end)


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _paragraphs(text):
    """The "What you should see" paragraphs of one Markdown cell."""
    found = []
    for match in re.finditer(re.escape(MARKER), text):
        end = re.search(r"\n\s*\n", text[match.end():])
        found.append(text[match.end():match.end() + end.start()] if end else text[match.end():])
    return found


def _blank(text, pattern):
    return pattern.sub(lambda m: " " * len(m.group()), text)


def _is_operand(text, start, end):
    before = text[:start].rstrip(" (")
    after = text[end:].lstrip(" )")
    if after[:1] in _OPERATORS and re.match(r"[\s(]*[\w$\\]", after[1:]):
        return True
    if before[-1:] in _OPERATORS:
        left = before[:-1].rstrip(" ")  # binary: after a number, a bracket or a one-letter name
        return bool(re.search(r"(?:[\d)}$]|(?<![A-Za-z])[A-Za-z])\Z", left))
    return False


def _skip(text, match):
    start, end = match.span()
    if match.group("sign"):
        start += 1
    before, after = text[:start], text[end:]
    if re.search(r"(?:[A-Za-z_]|[A-Za-z]-)\Z", before):
        return True
    if re.match(r"[A-Za-z_]", after) and not re.match(r"[kMGTB]\b", after):  # 60k / 5M are numbers
        return True
    if _REFERENCE.search(before) or _SETTING.search(before):
        return True
    if not match.group("frac") and "," not in match.group("int") and 1900 <= int(match.group("int")) <= 2099:
        return True
    return _is_operand(text, start, end)


def _decimal(match):
    digits = match.group("int").replace(",", "") + (match.group("frac") or "")
    exp = int((match.group("exp") or "0").replace("−", "-"))
    value = Decimal(digits).scaleb(exp)
    places = max(len(match.group("frac") or "") - 1, 0)
    return value, Decimal(1).scaleb(exp - places)


def quoted_numbers(paragraph, ignore=()):
    """The numbers a paragraph quotes as results, after the rules in the module docstring."""
    text = paragraph
    for pattern in _SKIPPED:
        text = _blank(text, pattern)
    found, ends = [], {}
    for match in _NUMBER.finditer(text):
        if _skip(text, match):
            continue
        value, quantum = _decimal(match)
        rest = text[match.end():]
        suffix = re.match(r"\s*(thousand|million|billion|trillion)\b|\s?([kMGTB])\b", rest)
        if suffix:
            shift = _SCALE[suffix.group(1) or suffix.group(2)]
            value, quantum = value.scaleb(shift), quantum.scaleb(shift)
        token = match.group().lstrip("-−")
        if token in ignore:
            continue
        found.append(Quoted(
            text=token, value=value, quantum=quantum,
            percent=bool(re.match(r"\s*%", rest)),
            magnitude=bool(match.group("exp")) and match.group("int") == "1" and not match.group("frac")))
        ends[match.start()] = ends[match.end()] = found[-1]
    return _ranges(text, found, ends)


def _ranges(text, found, ends):
    """``found`` with each quoted range's two ends (``ends``: by their positions) made one range."""
    for match in _RANGE.finditer(text):
        low = ends.get(match.start("low") if match.group("low") else match.start("low2"))
        high = ends.get(match.end("high") if match.group("high") else match.end("high2"))
        if low is None or high is None or low is high:
            continue
        found[found.index(low)] = Quoted(
            text=f"{low.text}–{high.text}", value=low.value, high=high.value,
            quantum=min(low.quantum, high.quantum), percent=low.percent or high.percent, magnitude=False)
        found.remove(high)
    return found


def printed_numbers(cells):
    """Every number in the text outputs of ``cells`` (a list of nbformat code cells)."""
    values = set()
    for cell in cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else \
                output.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            for match in _NUMBER.finditer(text):
                value, _ = _decimal(match)
                values.add(abs(value))
                if "," in match.group("int"):  # "1,234" could also be the list 1, 234
                    values.update(Decimal(part) for part in match.group("int").split(","))
    return values


def _matches(quoted, printed):
    targets = [(quoted.value, quoted.high, quoted.quantum)]
    if quoted.percent:
        targets.append((quoted.value / 100, quoted.high and quoted.high / 100, quoted.quantum / 100))
    for value in printed:
        if quoted.magnitude:
            if value and quoted.value / 10 <= value <= quoted.value * 10:
                return True
            continue
        if any(low - quantum / 2 <= value <= (low if high is None else high) + quantum / 2
               for low, high, quantum in targets):
            return True
    return False


def _opt_outs(source, index):
    numbers = set()
    for match in _OPT_OUT.finditer(source):
        if not match.group("reason").strip():
            raise ValueError(f"cell {index}: a 'not outputs' comment needs a reason")
        numbers.update(n.strip() for n in match.group("numbers").split(",") if n.strip())
    return numbers


def unpinned(nb):
    """Numbers quoted in "What you should see" paragraphs that the cells above them never print."""
    found, window = [], []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            window.append(cell)
            continue
        if cell["cell_type"] != "markdown":
            continue
        source = _source(cell)
        paragraphs = _paragraphs(source)
        if not paragraphs:
            continue
        printed, ignore = printed_numbers(window), _opt_outs(source, index)
        for paragraph in paragraphs:
            for number in quoted_numbers(paragraph, ignore):
                if not _matches(number, printed):
                    at = paragraph.find(number.text)
                    context = " ".join(paragraph[max(0, at - 40):at + len(number.text) + 30].split())
                    found.append(Unpinned(index, number.text, context))
        window = []
    return found


def report(name, problems):
    """An assertion message: one line per unpinned number."""
    lines = [f"{name}: {len(problems)} number(s) in 'What you should see' not printed above:"]
    return "\n".join(lines + [f"  {p}" for p in problems])
