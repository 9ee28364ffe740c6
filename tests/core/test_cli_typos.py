"""A mistyped command gets the nearest one, as a mistyped option does; the shell's hidden
`__complete` is never offered to a person."""

from __future__ import annotations

from lakegui.cli import main


def test_a_mistyped_command_names_the_nearest(capsys):
    assert main(["lss", "s3://b/"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'lss' (did you mean ls?)" in err
    assert "__complete" not in err and "preview" in err


def test_an_unknown_command_lists_the_commands(capsys):
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'frobnicate';" in err and "did you mean" not in err


def test_options_before_the_command_still_work(capsys):
    assert main(["--version"]) == 0
    assert "lakegui-cli" in capsys.readouterr().out
