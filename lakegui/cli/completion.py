"""`lakegui-cli completion bash|zsh`: a shell completion script; and the hidden
`lakegui-cli __complete s3://BUCKET/PRE` it calls, which lists one level of a prefix.

Commands and options are written into the script when it is generated, so completing them
costs nothing; only `s3://` paths run the CLI, for one listing page (or the bucket list).
"""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_OK, add_command, add_connection_options, connection_for, fail, fail_usage

SHELLS = ("bash", "zsh")
COMPLETE = "__complete"
MAX_ITEMS = 1000          # one listing page: completion must answer at once
CONNECTION_OPTIONS = ("--endpoint-url", "--profile", "--region")


def add_parser(sub) -> None:
    p = add_command(sub, "completion", help="print a bash or zsh completion script",
                    description="Print a completion script for bash or zsh: commands, options, and s3:// "
                                "paths completed from a listing of the prefix typed so far (with the "
                                "--endpoint-url, --profile and --region already on the line).",
                    example='eval "$(lakegui-cli completion bash)"     # in ~/.bashrc\n'
                            'eval "$(lakegui-cli completion zsh)"      # in ~/.zshrc, after compinit')
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=completion)
    # Hidden (no help): what the scripts call to complete an s3:// path.
    c = sub.add_parser(COMPLETE, prog=f"lakegui-cli {COMPLETE}")
    c.add_argument("uri", metavar="s3://BUCKET/PREFIX")
    add_connection_options(c)
    c.set_defaults(func=complete)


def _commands(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Each visible command and its long options, from the parser itself."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    visible = {a.dest for a in sub._choices_actions}
    return {name: sorted({o for a in p._actions for o in a.option_strings if o.startswith("--")})
            for name, p in sub.choices.items() if name in visible}


def completion(args: argparse.Namespace) -> int:
    commands = _commands(args.root_parser)  # main's parser: every command module added itself to it
    script = BASH if args.shell == "bash" else ZSH
    cases = "\n".join(f"        {name}) opts=\"{' '.join(opts)}\" ;;" for name, opts in commands.items())
    sys.stdout.write(script.replace("@COMMANDS@", " ".join(commands)).replace("@CASES@", cases)
                     .replace("@CONNECTION@", " ".join(CONNECTION_OPTIONS)).replace("@COMPLETE@", COMPLETE))
    return EXIT_OK


def complete(args: argparse.Namespace) -> int:
    """Print the s3:// names one level below what is typed: buckets, then folders and objects."""
    from ..core.listing import PrefixLister

    uri = args.uri
    if not uri.startswith("s3://"):
        return fail_usage(f"'{uri}' is not an S3 URI: it must start with s3://")
    bucket, slash, prefix = uri[5:].partition("/")
    conn, problem = connection_for(args, bucket if slash else "")
    if conn is None:
        return fail_usage(problem)
    try:
        if not slash:  # still typing the bucket
            names = [b["Name"] for b in conn.client().list_buckets().get("Buckets", [])]
            print("\n".join(f"s3://{n}/" for n in names if n.startswith(bucket)))
            return EXIT_OK
        lister = PrefixLister(conn.listing_client(), bucket, prefix, raw=conn.profile.raw_listing,
                              verify=conn.profile.verify_tls, page_size=MAX_ITEMS)
        page = lister.next_page()
    except Exception as exc:  # completion stays quiet on the terminal; the status says it failed
        return fail(f"{type(exc).__name__}: {exc}")
    lines = [f"s3://{bucket}/{p.prefix}" for p in page.prefixes] if page else []
    lines += [f"s3://{bucket}/{o.key}" for o in page.objects] if page else []
    if lines:
        print("\n".join(lines))
    return EXIT_OK


# The scripts complete commands and options from the lists written in, s3:// paths from
# `lakegui-cli __complete`, and anything else as file names. Words are taken from the line
# itself, split at blanks only: bash would split `s3://b/k` at its colon.

BASH = r'''# lakegui-cli completion for bash: eval "$(lakegui-cli completion bash)"
_lakegui_cli() {
    local line="${COMP_LINE:0:COMP_POINT}" cur cmd opts conn=() i
    local -a words
    read -ra words <<< "$line"
    [[ "$line" == *" " ]] && words+=("")
    cur="${words[${#words[@]}-1]}"
    cmd="${words[1]}"
    COMPREPLY=()
    if (( ${#words[@]} <= 2 )); then
        COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
        return 0
    fi
    case "$cmd" in
@CASES@
        *) opts="" ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    if [[ "$cur" == s3://* ]]; then
        for (( i = 2; i < ${#words[@]} - 1; i++ )); do
            case "${words[i]}" in
                --endpoint-url|--profile|--region) conn+=("${words[i]}" "${words[i+1]}") ;;
                --endpoint-url=*|--profile=*|--region=*) conn+=("${words[i]}") ;;
            esac
        done
        local IFS=$'\n' prefix="${cur%"${cur##*:}"}" item
        for item in $("${words[0]}" @COMPLETE@ "$cur" "${conn[@]}" 2>/dev/null); do
            COMPREPLY+=("${item#"$prefix"}")  # bash replaces only the part after the last colon
        done
        compopt -o nospace 2>/dev/null
        return 0
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o default -F _lakegui_cli lakegui-cli
'''

ZSH = r'''#compdef lakegui-cli
# lakegui-cli completion for zsh: eval "$(lakegui-cli completion zsh)" (after compinit)
_lakegui_cli() {
    local cur="${words[CURRENT]}" cmd="${words[2]}" opts i
    local -a conn items
    if (( CURRENT == 2 )); then
        compadd -- @COMMANDS@
        return
    fi
    case "$cmd" in
@CASES@
        *) opts="" ;;
    esac
    if [[ "$cur" == -* ]]; then
        compadd -- ${=opts}
        return
    fi
    if [[ "$cur" == s3://* ]]; then
        for (( i = 3; i < CURRENT; i++ )); do
            case "${words[i]}" in
                --endpoint-url|--profile|--region) conn+=("${words[i]}" "${words[i+1]}") ;;
                --endpoint-url=*|--profile=*|--region=*) conn+=("${words[i]}") ;;
            esac
        done
        items=("${(@f)$("${words[1]}" @COMPLETE@ "$cur" "${conn[@]}" 2>/dev/null)}")
        compadd -Q -S '' -- ${items:#}
        return
    fi
    _files
}
compdef _lakegui_cli lakegui-cli
'''
