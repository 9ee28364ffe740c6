"""What HEAD says about an object, lineage metadata included, as a tree."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from ...core.objects import ObjectProperties
from ...core.units import human_size
from ..dialogs.properties import restore_text


class PropertiesTree(QTreeWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("propertiesTree")
        self.setAccessibleName("Object properties")
        self.setHeaderLabels(["Property", "Value"])
        self.setColumnWidth(0, 150)

    def show_properties(self, p: ObjectProperties) -> None:
        self.clear()
        rows = [
            ("URI", p.uri),
            ("Size", f"{human_size(p.size)} ({p.size:,} bytes)"),
            ("Content type", p.content_type),
            ("Last modified", p.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if p.last_modified else ""),
            ("ETag", p.etag),
            ("Storage class", p.storage_class),
            ("Encryption", p.server_side_encryption or "none"),
        ]
        if p.version_id:
            rows.append(("Version", p.version_id))
        if restore := restore_text(p):  # archived, or restored for a while: beside the storage class
            rows.insert(6, ("Restore", restore))
        rows += [(f"Checksum {k}", v) for k, v in p.checksums.items()]
        for name, value in rows:
            QTreeWidgetItem(self, [name, value])
        meta = QTreeWidgetItem(self, ["Metadata", f"{len(p.metadata)} keys" if p.metadata else "none"])
        for k, v in sorted(p.metadata.items()):
            QTreeWidgetItem(meta, [k, v])
        meta.setExpanded(True)

    def items(self) -> dict[str, QTreeWidgetItem]:
        return {self.topLevelItem(i).text(0): self.topLevelItem(i) for i in range(self.topLevelItemCount())}
