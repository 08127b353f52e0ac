"""What simulated students type and get wrong: lesson cells and their typical errors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """A wrong version of a cell and the error the kernel answers with."""

    code: str
    error_name: str
    error_value: str


@dataclass(frozen=True)
class Snippet:
    """The intended code of one lesson cell and the ways students get it wrong."""

    code: str
    mistakes: tuple[Mistake, ...]
    hard: bool = False  # where strugglers get stuck
    slow: bool = False  # reads files or plots: runs for seconds, not milliseconds


HELP_MESSAGES: tuple[str, ...] = (
    "Not sure what this question is asking",
    "Can you check my approach before I go on?",
    "My kernel seems stuck",
    "I get a different number than the slides",
    "How do I read the error message?",
)

PANDAS_LESSON: tuple[Snippet, ...] = (
    Snippet(
        "import pandas as pd\nimport numpy as np",
        (Mistake("import pandsa as pd", "ModuleNotFoundError", "No module named 'pandsa'"),),
    ),
    Snippet(
        'df = pd.read_csv("data/sales.csv")\ndf.head()',
        (
            Mistake(
                'df = pd.read_csv("sales.csv")',
                "FileNotFoundError",
                "[Errno 2] No such file or directory: 'sales.csv'",
            ),
        ),
        slow=True,
    ),
    Snippet(
        "df.shape, df.dtypes",
        (
            Mistake(
                "df.shape, df.dtype",
                "AttributeError",
                "'DataFrame' object has no attribute 'dtype'. Did you mean: 'dtypes'?",
            ),
        ),
    ),
    Snippet(
        'df["price"] = df["price"].str.replace("$", "").astype(float)',
        (
            Mistake(
                'df["price"] = df["price"].astype(float)',
                "ValueError",
                "could not convert string to float: '$12.50'",
            ),
        ),
    ),
    Snippet(
        'df["total"] = df["price"] * df["quantity"]\ndf["total"].describe()',
        (
            Mistake('df["total"] = df["Price"] * df["quantity"]', "KeyError", "'Price'"),
            Mistake(
                'df["total"] = df["price"] * df["quantity"].astype(str)',
                "TypeError",
                "can't multiply sequence by non-int of type 'float'",
            ),
        ),
        hard=True,
    ),
    Snippet(
        'cheap = df[df["price"] < 10]\nlen(cheap)',
        (
            Mistake(
                'cheap = df[df["price"] < 10]\nlen(cheap', "SyntaxError", "'(' was never closed"
            ),
        ),
    ),
    Snippet(
        'for region in df["region"].unique():\n    print(region, (df["region"] == region).sum())',
        (
            Mistake(
                'for region in df["region"].unique():\nprint(region)',
                "IndentationError",
                "expected an indented block after 'for' statement on line 1",
            ),
        ),
    ),
    Snippet(
        'by_region = df.groupby("region")["total"].sum()\nby_region.sort_values(ascending=False)',
        (
            Mistake(
                'by_region = df.groupby("region")["totl"].sum()',
                "KeyError",
                "'Column not found: totl'",
            ),
            Mistake(
                'by_region = df.groupby("region")["total"].sum()\nby_regoin.sort_values()',
                "NameError",
                "name 'by_regoin' is not defined",
            ),
        ),
        hard=True,
    ),
    Snippet(
        "share = by_region / by_region.sum() * 100\nshare.round(1)",
        (
            Mistake(
                "share = by_region / by_region.sum() * 100\nshare.round(1)",
                "NameError",
                "name 'by_region' is not defined",
            ),
        ),
    ),
    Snippet(
        'def mean(values):\n    return sum(values) / len(values)\n\nmean(list(df["total"]))',
        (
            Mistake(
                "def mean(values):\n    return sum(values) / len(values)\n\nmean([])",
                "ZeroDivisionError",
                "division by zero",
            ),
        ),
    ),
    Snippet(
        'merged = df.merge(regions, on="region", how="left")\nmerged.head()',
        (
            Mistake('merged = df.merge(regions, on="Region", how="left")', "KeyError", "'Region'"),
            Mistake(
                'merged = df.merge(regions, on="region_id")',
                "ValueError",
                "You are trying to merge on object and int64 columns for key 'region_id'. "
                "If you wish to proceed you should use pd.concat",
            ),
        ),
        hard=True,
    ),
    Snippet(
        'monthly = df.resample("M", on="date")["total"].sum()\nmonthly.plot(title="Monthly")',
        (
            Mistake(
                'monthly = df.resample("M")["total"].sum()',
                "TypeError",
                "Only valid with DatetimeIndex, TimedeltaIndex or PeriodIndex, "
                "but got an instance of 'RangeIndex'",
            ),
        ),
        slow=True,
    ),
)

PYTHON_EXERCISES: tuple[Snippet, ...] = (
    Snippet(
        "scores = [72, 88, 95, 61, 79]\nlen(scores)",
        (
            Mistake(
                "scores = [72, 88, 95 61, 79]",
                "SyntaxError",
                "invalid syntax. Perhaps you forgot a comma?",
            ),
        ),
    ),
    Snippet(
        "def average(values):\n    return sum(values) / len(values)\n\naverage(scores)",
        (
            Mistake(
                "def average(values):\n    return sum(values) / len(values)\n\naverage([])",
                "ZeroDivisionError",
                "division by zero",
            ),
            Mistake(
                "def average(values):\nreturn sum(values) / len(values)",
                "IndentationError",
                "expected an indented block after function definition on line 1",
            ),
        ),
    ),
    Snippet(
        'top = max(scores)\nprint(f"Top score: {top}")',
        (Mistake("top = max(scroes)", "NameError", "name 'scroes' is not defined"),),
    ),
    Snippet(
        'grades = {"Aiko": 91, "Mateo": 78, "Amara": 85}\ngrades["Amara"]',
        (
            Mistake(
                'grades = {"Aiko": 91, "Mateo": 78, "Amara": 85}\ngrades["amara"]',
                "KeyError",
                "'amara'",
            ),
        ),
    ),
    Snippet(
        'def letter(score):\n    if score >= 90:\n        return "A"\n    elif score >= 80:\n'
        '        return "B"\n    return "C"\n\n[letter(s) for s in scores]',
        (
            Mistake(
                "[letter(str(s)) for s in scores]",
                "TypeError",
                "'>=' not supported between instances of 'str' and 'int'",
            ),
            Mistake(
                'def letter(score):\n    if score >= 90:\n        return "A"\n  return "C"',
                "IndentationError",
                "unindent does not match any outer indentation level",
            ),
        ),
        hard=True,
    ),
    Snippet("scores[-1]", (Mistake("scores[5]", "IndexError", "list index out of range"),)),
    Snippet(
        "total = 0\nfor s in scores:\n    total += s\ntotal",
        (
            Mistake(
                'total = "0"\nfor s in scores:\n    total += s',
                "TypeError",
                'can only concatenate str (not "int") to str',
            ),
        ),
    ),
    Snippet(
        'raw = "7.5"\nint(float(raw))',
        (
            Mistake(
                'raw = "7.5"\nint(raw)',
                "ValueError",
                "invalid literal for int() with base 10: '7.5'",
            ),
        ),
    ),
    Snippet(
        "counts = {}\nfor word in text.split():\n    counts[word] = counts.get(word, 0) + 1\n"
        "sorted(counts.items(), key=lambda kv: kv[1], reverse=True)[:5]",
        (
            Mistake(
                "counts = {}\nfor word in text.split():\n    counts[word] += 1", "KeyError", "'the'"
            ),
            Mistake(
                "for word in txt.split():\n    counts[word] = counts.get(word, 0) + 1",
                "NameError",
                "name 'txt' is not defined",
            ),
        ),
        hard=True,
    ),
    Snippet(
        "squares = [n ** 2 for n in range(10)]\nsum(squares)",
        (Mistake("squares = [n ** 2 for x in range(10)]", "NameError", "name 'n' is not defined"),),
    ),
    Snippet(
        "class Account:\n"
        "    def __init__(self, owner, balance=0):\n"
        "        self.owner = owner\n"
        "        self.balance = balance\n\n"
        "    def deposit(self, amount):\n"
        "        self.balance += amount\n"
        "        return self.balance\n\n"
        'Account("Aiko").deposit(50)',
        (
            Mistake(
                'Account("Aiko").deposit()',
                "TypeError",
                "Account.deposit() missing 1 required positional argument: 'amount'",
            ),
            Mistake(
                'Account("Aiko").balence',
                "AttributeError",
                "'Account' object has no attribute 'balence'. Did you mean: 'balance'?",
            ),
        ),
        hard=True,
    ),
    Snippet(
        'import json\nwith open("data/grades.json") as f:\n    data = json.load(f)\nlen(data)',
        (
            Mistake(
                'import json\nwith open("grades.json") as f:\n    data = json.load(f)',
                "FileNotFoundError",
                "[Errno 2] No such file or directory: 'grades.json'",
            ),
            Mistake(
                'with open("data/grades.csv") as f:\n    data = json.load(f)',
                "JSONDecodeError",
                "Expecting value: line 1 column 1 (char 0)",
            ),
        ),
    ),
)

# The lessons a simulated class works through, in order (path -> cells).
LESSONS: tuple[tuple[str, tuple[Snippet, ...]], ...] = (
    ("lessons/week3-pandas.ipynb", PANDAS_LESSON),
    ("lessons/week3-exercises.ipynb", PYTHON_EXERCISES),
)
