"""A drop target in its own process, like a file manager: takes a drop of files and copies them
into the folder given on the command line, then quits."""

import shutil
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel

app = QApplication(sys.argv)
out = Path(sys.argv[1])


class Target(QLabel):
    def __init__(self):
        super().__init__("drop here")
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event):
        event.acceptProposedAction() if event.mimeData().hasUrls() else event.ignore()

    def dragMoveEvent(self, event):
        event.acceptProposedAction()

    def dropEvent(self, event):
        urls = event.mimeData().urls()  # this is when the source downloads
        for url in urls:
            path = Path(url.toLocalFile())
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, out / path.name)
        event.acceptProposedAction()
        print("dropped", len(urls), flush=True)
        app.quit()


target = Target()
target.setGeometry(1000, 100, 300, 300)
target.show()
print("ready", flush=True)
app.exec()
