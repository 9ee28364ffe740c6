"""What a lake read asked for that the lake does not hold, said one way by `lakegui-cli query`
and `schema` and by the Python API (`lakegui.Lake`): no file selected, or a column (asked for, or
in the filter) that no file read has. A typo must not read as an empty or all-null answer."""

from __future__ import annotations

import difflib


def no_files_message(bucket: str, prefix: str, template, selection, selected) -> str:
    """The one line a read ends with when no file is selected: the key pattern and the fields
    asked for, what the listing found there instead, and 'did you mean symbol=AAPL?' when a
    value asked for is held only in another case."""
    from .select import case_hints

    wanted = _wanted(bucket, prefix, template, selection)
    where = f"s3://{bucket}/{selected.listing_prefix}"
    if not selected.listed:
        found = f"nothing is under {where}"
    elif selected.listed == 1:  # "none of the 1 objects" reads as a slip
        found = f"the one object under {where} " + ("does not fit the layout" if not selection.choices or
                                                    selected.unmatched else "is not selected")
    elif not selection.choices:
        found = f"none of the {selected.listed:,} objects under {where} fits the layout"
    else:
        outside = len(selected.unmatched)
        found = (f"none of the {selected.listed:,} objects under {where} is selected"
                 + (f" ({outside:,} of them {'does' if outside == 1 else 'do'} not fit the layout)" if outside else ""))
    hints = case_hints(selection, selected.values)
    return f"no file matches {wanted}: {found}" + (f" ({'; '.join(hints)})" if hints else "")


def root_note(bucket: str, prefix: str, template) -> str:
    """'' when `prefix` is where the layout starts; else the line saying that the layout's own
    folder was given and the layout is read from the root above it (select.layout_root)."""
    from .select import layout_root

    given = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    root = layout_root(given, template)
    if root == given:
        return ""
    return (f"s3://{bucket}/{given} is the folder of layout {template.name!r} ({template.key_template}): "
            f"reading the layout from s3://{bucket}/{root}")


def pruned_message(bucket: str, prefix: str, template, selection, selected: int, filter_text: str,
                   pruned: int) -> str:
    """'' unless the filter, by the fields in the keys alone, ruled out every one of the
    `selected` files (`pruned` of them: LakeDataset.files_pruned); then the line a read that finds no file ends
    with, as no_files_message's (`--where year=2030` and `--filter 'year >= 2030'` say one thing)."""
    from ..units import counted

    if not selected or pruned < selected:
        return ""
    n = selected
    return (f"no file matches {_wanted(bucket, prefix, template, selection)} and {filter_text.strip()}: the "
            f"filter rules out {'the one file' if n == 1 else 'all ' + counted(n, 'file')} selected, by "
            f"{'its' if n == 1 else 'their'} fields")


def _wanted(bucket: str, prefix: str, template, selection) -> str:
    from .select import layout_root

    prefix = layout_root(prefix, template)  # as select_files reads it
    wanted = f"s3://{bucket}/{prefix}{template.key_template} (layout {template.name!r})"
    return wanted + (f" with {selection.describe()}" if selection.choices else "")


def nearest(name: str, names) -> str | None:
    """The one of `names` that `name` is likely a typo of (clse -> close, volum -> volume), or
    None. Close enough to be a slip only: at 0.6 'nope' was offered 'open'."""
    near = difflib.get_close_matches(name, list(names), n=1, cutoff=0.8)
    return near[0] if near else None


class ColumnCheck:
    """Fed each LakeBatch of a read (`see`), says which named columns no file read has
    (`message`): a column a few files lack is nulls there, one that none has is a typo. Keeps
    only names, not rows, so a streamed scan can use it."""

    def __init__(self, columns: list[str] | None, flt, field_names: list[str]):
        self.fields = list(field_names)
        named = list(columns or [])
        if flt is not None:
            named += sorted(flt.columns() - set(named))
        self.named = [c for c in dict.fromkeys(named) if c not in self.fields]
        self.have: dict[str, None] = {}   # columns of the files read, in order
        self.read = 0

    def see(self, batch) -> None:
        if batch.error:
            return
        self.read += 1
        self.have.update(dict.fromkeys(batch.columns))

    def unknown(self) -> list[str]:
        return [c for c in self.named if c not in self.have] if self.read else []

    def message(self) -> str:
        """'' when every named column is in some file read (or none was read); else which are
        not, the nearest name of each, and the columns the files have."""
        unknown = self.unknown()
        if not unknown:
            return ""
        have = list(self.have) + self.fields
        hints = [f"did you mean {near}?" for c in unknown if (near := nearest(c, have))]
        return (f"no file read has a column named {', '.join(map(repr, unknown))}"
                + (f" ({'; '.join(hints)})" if hints else "") + f"; the columns are: {', '.join(have)}")
