"""The one terminal table helper: the columns that fit, most important first."""

import io

from rich.console import Console

from dysts_bench.console import choose_columns, print_table, terminal_width

HEADERS = ["name", "a long header here", "b", "note"]
ROWS = [["Lorenz", "1.5", "22", "a fairly long free-text note that must fold"],
        ["Rossler", "0.25", "3", "short"]]


def test_columns_are_taken_by_priority_and_shown_in_their_order():
    # widths: name 7, "a long header here" 10 (wraps), b 2; 3 per column and 1 per table besides
    assert choose_columns(HEADERS, ROWS, 29, priority=[0, 2, 1, 3])[0] == [0, 1, 2]
    assert choose_columns(HEADERS, ROWS, 28, priority=[0, 2, 1, 3])[0] == [0, 2]
    assert choose_columns(HEADERS, ROWS, 28, priority=[0, 1, 2, 3])[0] == [0, 1]
    assert choose_columns(HEADERS, ROWS, 10 ** 6)[0] == [0, 1, 2, 3]
    assert choose_columns(HEADERS, ROWS, 5)[0] == [0]  # the first column always shows


def test_a_fold_column_takes_what_is_left():
    shown, widths = choose_columns(HEADERS, ROWS, 50, fold=[3])
    assert 3 in shown and widths[3] < len(ROWS[0][3])


def test_printed_lines_fit_and_hidden_columns_are_named():
    for width in (30, 50, 80):
        buf = io.StringIO()
        print_table("t", HEADERS, ROWS, console=Console(file=buf, width=width), fold=[3])
        lines = buf.getvalue().splitlines()
        assert max(map(len, lines)) <= width
        assert "Lorenz" in buf.getvalue()
    assert "not shown:" in buf.getvalue() or "note" in buf.getvalue()
    buf = io.StringIO()
    print_table("t", HEADERS, ROWS, console=Console(file=buf, width=30), wide=True)
    assert "a fairly long free-text note that must fold" in buf.getvalue() and "not shown" not in buf.getvalue()


def test_columns_environment_variable_sets_the_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "57")
    assert terminal_width() == 57
    monkeypatch.delenv("COLUMNS")
    assert terminal_width(io.StringIO()) == 80  # not a terminal
