"""The lake as a table: a layout template's files selected by their fields, read by ranges with
column and row-group pruning, and their schemas compared (issue 23). No Qt here."""
