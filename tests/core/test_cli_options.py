"""The same options everywhere (issue 17, item 4), `ls` of an empty prefix and library warnings
(issue 18, item 18), and shell completion (issue 17, item 5)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

import pytest

from lakegui.cli import build_parser, main

CONNECTION = {"--endpoint-url", "--profile", "--region", "--json"}
S3_COMMANDS = {"ls", "preview", "upload", "download", "backfill", "coverage", "queue", "__complete"}
QUEUEING = {"upload", "download", "backfill", "queue"}


def commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def options(p: argparse.ArgumentParser) -> set[str]:
    return {o for a in p._actions for o in a.option_strings}


def test_every_s3_command_takes_the_connection_options_and_queueing_ones_queue():
    cmds = commands()
    assert S3_COMMANDS <= set(cmds)
    for name in S3_COMMANDS:
        assert CONNECTION <= options(cmds[name]), f"{name} lacks {CONNECTION - options(cmds[name])}"
    for name in QUEUEING:
        assert "--queue" in options(cmds[name]), name
    for name, p in cmds.items():  # and every command added since that talks to S3
        if "--endpoint-url" in options(p):
            assert CONNECTION <= options(p), f"{name} lacks {CONNECTION - options(p)}"


def test_options_in_any_position_after_the_command():
    p = build_parser()
    a = p.parse_args(["preview", "--json", "s3://b/k.parquet", "--region", "eu-west-1", "--endpoint-url", "http://h:1"])
    b = p.parse_args(["preview", "--endpoint-url", "http://h:1", "--region", "eu-west-1", "s3://b/k.parquet", "--json"])
    assert vars(a) == vars(b) and a.json and a.region == "eu-west-1"
    q = p.parse_args(["queue", "resume", "--profile", "analytics", "--queue", "/tmp/q", "--endpoint-url", "http://h:2"])
    assert (q.action, q.profile, q.endpoint_url, q.queue) == ("resume", "analytics", "http://h:2", "/tmp/q")


def test_every_command_help_shows_an_example(capsys):
    for name, p in commands().items():
        if name.startswith("__"):
            continue
        text = p.format_help()
        assert "example:" in text and f"lakegui-cli {name}" in text.split("example:")[1], name


def test_unknown_option_gets_a_suggestion(capsys):
    assert main(["ls", "s3://lake/", "--endpont-url", "http://h:1"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --endpont-url" in err and "did you mean --endpoint-url?" in err
    assert main(["preview", "s3://lake/k.parquet", "--row-grup", "2"]) == 2
    assert "did you mean --row-group?" in capsys.readouterr().err
    assert main(["ls", "s3://lake/", "--zzz"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_hidden_complete_is_not_listed(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "preview" in out and "completion" in out and "__complete" not in out


# issue 18, item 18

def test_ls_of_an_empty_prefix_says_so_and_exits_0(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="data/a.parquet", Body=b"1")
    assert main(["ls", "s3://lake/nothing/here/"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "lakegui-cli: no objects under s3://lake/nothing/here/"
    assert main(["ls", "s3://lake/data/"]) == 0
    assert "no objects" not in capsys.readouterr().err


def test_unreachable_endpoint_prints_one_line_and_no_library_warnings(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # the log folder cannot be made: nothing may fall through to the terminal
    env = {**__import__("os").environ, "LAKEGUI_LOG_DIR": str(blocker / "log")}
    r = subprocess.run([sys.executable, "-m", "lakegui.cli", "ls", "s3://lake/", "--endpoint-url",
                        f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lakegui-cli: Cannot reach"), r.stderr
    assert "Retrying" not in r.stderr and "list-type" not in r.stderr


def test_urllib3_retries_go_to_the_log_file(tmp_path, capsys):
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["ls", "s3://lake/", "--endpoint-url", f"http://127.0.0.1:{port}"]) == 1
    assert "Retrying" not in capsys.readouterr().err
    log = (tmp_path / "lakegui" / "log").glob("*.log")
    text = "".join(p.read_text() for p in log)
    assert "Retrying" in text and "X-Amz-Signature=***" in text  # kept, and scrubbed
    assert os.environ["LAKEGUI_LOG_DIR"].startswith(str(tmp_path))


# shell completion

@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts(shell, capsys, tmp_path):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "__complete" in script and "preview" in script and "--endpoint-url" in script
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"c.{shell}"
    path.write_text(script)
    r = subprocess.run([binary, "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    if shell == "zsh":  # it loads after compinit and registers its function for lakegui-cli
        code = f"autoload -U compinit && compinit -u -d {tmp_path}/zcd; source {path}; print -r -- $_comps[lakegui-cli]"
        r = subprocess.run([binary, "-f", "-c", code], capture_output=True, text=True, timeout=30)
        assert r.stdout.strip() == "_lakegui_cli", r.stderr


def test_bash_completion_completes_commands_options_and_s3_paths(tmp_path, capsys):
    """Drive the bash function as bash does, with a stub CLI that echoes what it was asked."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "c.bash"
    script.write_text(capsys.readouterr().out)
    stub = tmp_path / "lakegui-cli"
    stub.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/asked"\n'
                    'printf "s3://lake/data/\\ns3://lake/data.json\\n"\n')
    stub.chmod(0o755)

    def complete(line: str) -> list[str]:
        code = (f'source {script}; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; '
                f'_lakegui_cli; printf "%s\\n" "${{COMPREPLY[@]}}"')
        r = subprocess.run([bash, "-c", code], capture_output=True, text=True, timeout=30,
                           env={"PATH": "/usr/bin:/bin"})
        return [x for x in r.stdout.splitlines() if x]

    assert complete("lakegui-cli pre") == ["preview"]
    assert set(complete("lakegui-cli preview --ro")) == {"--rows", "--row-group"}
    got = complete(f"{stub} preview --endpoint-url http://127.0.0.1:9000 s3://lake/da")
    # bash completes the text after the word's last colon: '//lake/data/' stands for 's3://lake/data/'
    assert got == ["//lake/data/", "//lake/data.json"]
    asked = (tmp_path / "asked").read_text().split()
    assert asked == ["__complete", "s3://lake/da", "--endpoint-url", "http://127.0.0.1:9000"]


def test_complete_lists_one_level(s3, capsys):
    s3.create_bucket(Bucket="lake")
    s3.create_bucket(Bucket="lake-logs")
    for k in ("data/a.parquet", "data/sub/b.json", "data.json", "top.txt"):
        s3.put_object(Bucket="lake", Key=k, Body=b"1")
    assert main(["__complete", "s3://lake/da"]) == 0
    assert capsys.readouterr().out.split() == ["s3://lake/data/", "s3://lake/data.json"]
    assert main(["__complete", "s3://lake/data/"]) == 0
    assert capsys.readouterr().out.split() == ["s3://lake/data/sub/", "s3://lake/data/a.parquet"]
    assert main(["__complete", "s3://l"]) == 0
    assert capsys.readouterr().out.split() == ["s3://lake/", "s3://lake-logs/"]
    assert main(["__complete", "s3://lake/zz"]) == 0
    assert capsys.readouterr().out == ""
