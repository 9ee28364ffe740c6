"""JSON as a collapsible tree; children are made when their parent is first expanded,
so a large document costs only what the user opens."""

from __future__ import annotations

import itertools

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from ...core.preview.formats import json_children, json_scalar

_VALUE = 0x0100  # Qt.UserRole


class JsonTree(QTreeWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("jsonTree")
        self.setAccessibleName("JSON document")
        self.setHeaderLabels(["Key", "Value"])
        self.setColumnWidth(0, 220)
        self._unopened: dict[int, object] = {}  # JSON values under items not yet expanded
        self._ids = itertools.count(1)
        self.itemExpanded.connect(self._on_item_expanded)

    def show_value(self, value) -> None:
        self.clear()
        self._unopened.clear()
        self._add_children(None, value)
        for i in range(min(self.topLevelItemCount(), 50)):  # the first level open, as editors show it
            self.topLevelItem(i).setExpanded(True)

    def _add_children(self, parent: QTreeWidgetItem | None, value) -> None:
        for label, child in json_children(value):
            # Top-level items take the tree as parent: parented to invisibleRootItem(), PySide
            # leaves them owned by their Python wrappers, and the garbage collector frees them twice.
            item = QTreeWidgetItem(parent if parent is not None else self, [label, json_scalar(child)])
            if json_children(child):
                # Kept on the Python side: a QVariant would sort the keys of a dict.
                ident = next(self._ids)
                self._unopened[ident] = child
                item.setData(0, _VALUE, ident)
                item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)

    def _on_item_expanded(self, item: QTreeWidgetItem) -> None:
        value = self._unopened.pop(item.data(0, _VALUE), None) if item.childCount() == 0 else None
        if value is not None:
            self._add_children(item, value)
