"""Icons, stylesheet and desktop file; installed as the `lakegui.resources` package."""
