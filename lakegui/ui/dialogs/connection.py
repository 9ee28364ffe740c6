"""The Connect dialog: a list of connection profiles to add, edit, duplicate, delete and test.

A profile's credentials come either from an AWS profile (or boto3's default chain) or, for
endpoints without one (MinIO, SeaweedFS, R2), from an access key kept in the OS keychain. Keys
typed here stay in memory until Connect or Save writes them to the keychain; settings.json only
ever gets the keychain entry's name.
"""

from __future__ import annotations

import copy
import logging
from concurrent.futures import Executor
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
)

from ...core import keychain
from ...core.connection import (
    ADDRESSING_STYLES,
    Connection,
    ConnectionProfile,
    StaticCredentials,
    available_aws_profiles,
    configured_endpoint,
)
from ...core.errors import classify
from ...core.probe import probe

log = logging.getLogger(__name__)

DEFAULT_CHAIN = "(default credential chain)"
AWS_ROUTE, KEYCHAIN_ROUTE = "AWS profile or default chain", "Access key in the OS keychain"
ERROR_STYLE = "color: #b3261e;"
AWS_PLACEHOLDER = "empty for AWS; e.g. http://localhost:9000 for MinIO"


@dataclass
class _Entry:
    """A profile being edited, with keys typed for it that are not in the keychain yet."""

    profile: ConnectionProfile
    access_key: str = ""
    secret_key: str = ""
    keyed: bool = False  # its credentials are (to be) in the keychain
    original: str = ""  # the saved name it was opened with ('' for one added here)

    def __post_init__(self):
        self.keyed = self.keyed or bool(self.profile.keychain)


class ConnectionDialog(QDialog):
    """Pick, edit and test connection profiles. After exec(): profiles() is the edited list,
    profile() the selected one, and connect_requested says whether to connect to it."""

    tested = Signal(bool, str)  # a Test finished: whether it answered, and what to show
    _probe_done = Signal(int, bool, str)  # from the executor's thread: test number, ok, message

    def __init__(self, profiles: list[ConnectionProfile] | ConnectionProfile | None = None, parent=None, *,
                 current: str = "", executor: Executor | None = None):
        super().__init__(parent)
        self.setWindowTitle("Connect to S3")
        self.setObjectName("ConnectionDialog")
        if isinstance(profiles, ConnectionProfile):
            profiles = [profiles]
        self._entries = [_Entry(copy.copy(p), original=p.name) for p in profiles or []] or \
            [_Entry(ConnectionProfile())]
        self._original_refs = {e.profile.keychain for e in self._entries if e.profile.keychain}
        self._executor = executor
        self._row = -1
        self._loading = False
        self._test_number = 0
        self.connect_requested = False
        self.keychain_problem = keychain.backend_problem()

        # the list and its buttons
        self.profile_list = QListWidget()
        self.profile_list.setObjectName("profileList")
        self.profile_list.setAccessibleName("Connection profiles")
        self.add_button = QPushButton("&Add")
        self.duplicate_button = QPushButton("D&uplicate")
        self.delete_button = QPushButton("De&lete")
        for button, slot in ((self.add_button, self.add_profile), (self.duplicate_button, self.duplicate_profile),
                             (self.delete_button, self.delete_profile)):
            button.setAutoDefault(False)
            button.clicked.connect(slot)
        list_buttons = QHBoxLayout()
        for button in (self.add_button, self.duplicate_button, self.delete_button):
            list_buttons.addWidget(button)
        left = QVBoxLayout()
        left.addWidget(self.profile_list)
        left.addLayout(list_buttons)

        # the form
        self.name_edit = QLineEdit()
        self.endpoint_edit = QLineEdit()
        self.endpoint_edit.setPlaceholderText(AWS_PLACEHOLDER)
        self.region_edit = QLineEdit()
        self.route_combo = QComboBox()
        self.route_combo.addItems((AWS_ROUTE, KEYCHAIN_ROUTE))
        self.profile_combo = QComboBox()
        self.profile_combo.setEditable(True)
        self.profile_combo.addItem(DEFAULT_CHAIN)
        self.profile_combo.addItems(available_aws_profiles())
        self.access_key_edit = QLineEdit()
        self.secret_key_edit = QLineEdit()
        self.secret_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.keychain_note = QLabel()
        self.keychain_note.setObjectName("keychainNote")
        self.keychain_note.setWordWrap(True)
        self.use_aws_button = QPushButton("Use an AWS profile instead")
        self.use_aws_button.setAutoDefault(False)
        self.use_aws_button.clicked.connect(lambda: self.route_combo.setCurrentText(AWS_ROUTE))
        self.bucket_edit = QLineEdit()
        self.style_combo = QComboBox()
        self.style_combo.addItems(ADDRESSING_STYLES)
        self.verify_check = QCheckBox("Verify TLS certificates")
        self.tls_warning = QLabel("Without verification anyone on the network path can impersonate this "
                                  "endpoint and read or change your data. Turn it off only for a test "
                                  "server you control.")
        self.tls_warning.setObjectName("tlsWarning")
        self.tls_warning.setWordWrap(True)
        self.tls_warning.setStyleSheet(ERROR_STYLE)
        self.verify_check.toggled.connect(lambda on: self.tls_warning.setVisible(not on))

        form = QFormLayout()
        for label, widget in (("&Name", self.name_edit), ("&Endpoint URL", self.endpoint_edit),
                              ("&Region", self.region_edit), ("&Credentials", self.route_combo),
                              ("AWS &profile", self.profile_combo), ("Access &key", self.access_key_edit),
                              ("&Secret key", self.secret_key_edit), ("", None),
                              ("", self.use_aws_button),
                              ("&Bucket", self.bucket_edit), ("&Addressing", self.style_combo)):
            if widget is None:  # the keychain note spans the form: beside the labels it was cut off mid-line
                form.addRow(self.keychain_note)
                continue
            if label:
                widget.setAccessibleName(label.replace("&", ""))
            form.addRow(label, widget)
        form.addRow("", self.verify_check)
        form.addRow("", self.tls_warning)

        note = QLabel("With an AWS profile, credentials come from your AWS configuration (environment, "
                      "~/.aws files, SSO). Keys for other endpoints are kept in the OS keychain. "
                      "lakegui never writes a key to its settings.")
        note.setWordWrap(True)
        self.test_button = QPushButton("&Test")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.test_profile)
        self.test_label = QLabel()
        self.test_label.setObjectName("testResult")
        self.test_label.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_label, 1)
        self.error_label = QLabel()
        self.error_label.setObjectName("connectionError")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.connect_button.setText("Connect")
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setToolTip("Keep the profiles without connecting")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button.clicked.connect(self.save)

        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(note)
        right.addLayout(test_row)
        right.addWidget(self.error_label)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(buttons)

        for edit in (self.access_key_edit, self.secret_key_edit):
            edit.textEdited.connect(self._refresh_keychain_note)
        # A test's answer is about the fields as they were: an edit takes it away (and one in flight).
        for edit in (self.name_edit, self.endpoint_edit, self.region_edit, self.access_key_edit,
                     self.secret_key_edit, self.bucket_edit):
            edit.textEdited.connect(self._forget_test)
        for combo in (self.route_combo, self.style_combo):
            combo.activated.connect(self._forget_test)
        self.profile_combo.currentTextChanged.connect(self._forget_test)
        self.verify_check.clicked.connect(self._forget_test)
        self.route_combo.currentTextChanged.connect(self._on_route_changed)
        self.profile_combo.currentTextChanged.connect(self._refresh_endpoint_placeholder)
        self.name_edit.textEdited.connect(self._on_name_edited)
        self._probe_done.connect(self._on_probe_done)
        self.profile_list.currentRowChanged.connect(self._on_row_changed)
        for entry in self._entries:
            self.profile_list.addItem(entry.profile.name)
        chosen = next((i for i, e in enumerate(self._entries) if e.profile.name == current), 0)
        self.profile_list.setCurrentRow(chosen)

    # the list

    def profiles(self) -> list[ConnectionProfile]:
        """The profiles as edited (what to save)."""
        self._commit()
        return [copy.copy(e.profile) for e in self._entries]

    def renamed(self) -> dict[str, str]:
        """{saved name: new name} of the profiles renamed here, so what is kept per name follows."""
        self._commit()
        return {e.original: e.profile.name for e in self._entries if e.original and e.original != e.profile.name}

    def profile(self) -> ConnectionProfile:
        """The selected profile, with the form's values."""
        self._commit()
        return copy.copy(self._entries[self._row].profile)

    def add_profile(self) -> None:
        self._append(_Entry(ConnectionProfile(name=self._free_name("new"))))
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def duplicate_profile(self) -> None:
        """A copy of the selected profile under a new name; it shares the keychain entry until
        keys are typed for it."""
        self._commit()
        source = self._entries[self._row]
        dup = copy.copy(source.profile)
        dup.name = self._free_name(f"{source.profile.name} copy")
        self._append(_Entry(dup, source.access_key, source.secret_key, source.keyed))

    def delete_profile(self) -> None:
        """Forget the selected profile; its keychain entry goes at Connect or Save if no other
        profile uses it."""
        row = self._row
        self._row = -1  # nothing to commit from the form: that profile is gone
        del self._entries[row]
        if not self._entries:
            self._entries.append(_Entry(ConnectionProfile(name=self._free_name("new"))))
            self.profile_list.addItem(self._entries[0].profile.name)
        self._loading = True
        self.profile_list.takeItem(row)
        self._loading = False
        self.profile_list.setCurrentRow(min(row, len(self._entries) - 1))
        self._load(self.profile_list.currentRow())

    def _append(self, entry: _Entry) -> None:
        self._commit()
        self._row = -1  # committed: the row change below must not commit the form again
        self._entries.append(entry)
        self.profile_list.addItem(entry.profile.name)
        self.profile_list.setCurrentRow(len(self._entries) - 1)

    def _free_name(self, base: str) -> str:
        names = {e.profile.name for e in self._entries}
        if base not in names:
            return base
        return next(f"{base} {n}" for n in range(2, len(names) + 3) if f"{base} {n}" not in names)

    def _on_row_changed(self, row: int) -> None:
        if self._loading or row < 0:
            return
        self._commit()
        self._load(row)

    def _on_name_edited(self, text: str) -> None:
        if self._row >= 0:
            self.profile_list.item(self._row).setText(text.strip())

    # the form

    def _load(self, row: int) -> None:
        self._row = row
        entry = self._entries[row]
        p = entry.profile
        self._loading = True
        try:
            self.name_edit.setText(p.name)
            self.endpoint_edit.setText(p.endpoint_url)
            self.region_edit.setText(p.region)
            self.profile_combo.setCurrentText(p.aws_profile or DEFAULT_CHAIN)
            self.route_combo.setCurrentText(KEYCHAIN_ROUTE if entry.keyed else AWS_ROUTE)
            self.access_key_edit.setText(entry.access_key)
            self.secret_key_edit.setText(entry.secret_key)
            self.bucket_edit.setText(p.bucket)
            self.style_combo.setCurrentText(p.addressing_style)
            self.verify_check.setChecked(p.verify_tls)
            self.tls_warning.setVisible(not p.verify_tls)
        finally:
            self._loading = False
        self._on_route_changed(self.route_combo.currentText())
        self.error_label.hide()
        self.test_label.clear()

    def _commit(self) -> None:
        """Copy the form into the selected entry."""
        if self._row < 0 or self._loading:
            return
        entry = self._entries[self._row]
        aws_profile = self.profile_combo.currentText().strip()
        keyed = self.route_combo.currentText() == KEYCHAIN_ROUTE
        name = self.name_edit.text().strip()
        entry.keyed = keyed
        entry.access_key = self.access_key_edit.text().strip() if keyed else ""
        entry.secret_key = self.secret_key_edit.text() if keyed else ""
        ref = entry.profile.keychain if keyed else ""
        if keyed and (entry.access_key or entry.secret_key):
            ref = self._own_ref(entry, name)
        entry.profile = ConnectionProfile(
            name=name,
            endpoint_url=self.endpoint_edit.text().strip(),
            region=self.region_edit.text().strip() or "us-east-1",
            aws_profile="" if keyed or aws_profile == DEFAULT_CHAIN else aws_profile,
            bucket=self.bucket_edit.text().strip(),
            addressing_style=self.style_combo.currentText(),
            verify_tls=self.verify_check.isChecked(),
            keychain=ref,
        )
        self.profile_list.item(self._row).setText(name)

    def _own_ref(self, entry: _Entry, name: str) -> str:
        """The keychain entry new keys for `entry` go to: the one it names if no other profile
        shares it, else a fresh one named after the profile."""
        others = {e.profile.keychain for e in self._entries if e is not entry}
        if entry.profile.keychain and entry.profile.keychain not in others:
            return entry.profile.keychain
        ref, n = keychain.ref_for(name), 2
        while ref in others:
            ref, n = keychain.ref_for(f"{name} {n}"), n + 1
        return ref

    def _on_route_changed(self, route: str) -> None:
        keyed = route == KEYCHAIN_ROUTE
        self.profile_combo.setEnabled(not keyed)
        usable = keyed and not self.keychain_problem
        self.access_key_edit.setEnabled(usable)
        self.secret_key_edit.setEnabled(usable)
        self.use_aws_button.setVisible(keyed and bool(self.keychain_problem))
        self._refresh_keychain_note()
        self._refresh_endpoint_placeholder()

    def _refresh_endpoint_placeholder(self) -> None:
        """An empty Endpoint URL means AWS only when nothing outside lakegui names an endpoint
        (AWS_ENDPOINT_URL, the AWS profile's endpoint_url): say the one requests would go to."""
        aws_profile = self.profile_combo.currentText().strip()
        if self.route_combo.currentText() == KEYCHAIN_ROUTE or aws_profile == DEFAULT_CHAIN:
            aws_profile = ""
        url, source = configured_endpoint(aws_profile)
        self.endpoint_edit.setPlaceholderText(f"empty: {source} ({url})" if url else AWS_PLACEHOLDER)

    def _refresh_keychain_note(self) -> None:
        keyed = self.route_combo.currentText() == KEYCHAIN_ROUTE
        self.keychain_note.setVisible(keyed)
        if not keyed:
            return
        if self.keychain_problem:
            self.keychain_note.setStyleSheet(ERROR_STYLE)
            self.keychain_note.setText(self.keychain_problem)
            self._fit_height()
            return
        self.keychain_note.setStyleSheet("")
        ref = self._entries[self._row].profile.keychain if self._row >= 0 else ""
        typed = self.access_key_edit.text() or self.secret_key_edit.text()
        if ref and not typed:
            self.keychain_note.setText(f"The keys are in keychain entry {ref}. Type new ones to replace them.")
        else:
            self.keychain_note.setText("The keys will be kept in the OS keychain (entry "
                                       f"{keychain.ref_for(self.name_edit.text().strip() or 'NAME')}), "
                                       "never in lakegui's settings.")

    def _fit_height(self) -> None:
        """Grow to show a wrapped note in full: a dialog does not follow its labels' height for
        its width by itself, and the keychain note was cut off mid-line."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        need = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else \
            layout.totalSizeHint().height()
        if need > self.height():
            self.resize(self.width(), need)

    # testing

    def _forget_test(self, *_) -> None:
        if self._loading or not (self.test_label.text() or not self.test_button.isEnabled()):
            return
        self._test_number += 1  # an answer still on its way is for the old fields
        self.test_button.setEnabled(True)
        self.test_label.clear()
        self.test_label.setStyleSheet("")

    def test_profile(self) -> None:
        """Probe the selected profile off the UI thread; the result shows beside the button."""
        self._commit()
        entry = self._entries[self._row]
        problems = entry.profile.problems() + self._key_problems(entry)
        if problems:
            self._show_test(False, "\n".join(problems))
            return
        creds = StaticCredentials(entry.access_key, entry.secret_key) if entry.secret_key else None
        connection = Connection(entry.profile, credentials=creds)
        self._test_number += 1
        number = self._test_number
        self.test_label.setStyleSheet("")
        self.test_label.setText("Testing…")
        self.test_button.setEnabled(False)

        def run() -> None:
            try:
                message, ok = probe(connection), True
            except Exception as exc:  # noqa: BLE001  whatever failed is shown, as the browser would
                message, ok = classify(exc, bucket=connection.bucket or None,
                                       endpoint=connection.profile.endpoint_url or None).message, False
            try:
                self._probe_done.emit(number, ok, message)
            except RuntimeError:  # the dialog is gone: no one to tell
                pass

        if self._executor is None:
            run()
        else:
            self._executor.submit(run)

    def _on_probe_done(self, number: int, ok: bool, message: str) -> None:
        if number == self._test_number:  # a newer test replaces an older one's answer
            self._show_test(ok, message)

    def _show_test(self, ok: bool, message: str) -> None:
        self.test_button.setEnabled(True)
        self.test_label.setStyleSheet("" if ok else ERROR_STYLE)
        self.test_label.setText(message)
        self._fit_height()
        self.tested.emit(ok, message)

    # closing

    def _key_problems(self, entry: _Entry) -> list[str]:
        if not entry.keyed:
            return []
        if self.keychain_problem and (entry.secret_key or not entry.profile.keychain):
            return [self.keychain_problem]
        if bool(entry.access_key) != bool(entry.secret_key):
            return [f"'{entry.profile.name}' needs both the access key and the secret key."]
        if not entry.profile.keychain:
            return [f"Enter the access key and secret key of '{entry.profile.name}'."]
        return []

    def _problems(self) -> tuple[int, list[str]]:
        """The first profile that cannot be kept, and why."""
        self._commit()
        seen = set()
        for row, entry in enumerate(self._entries):
            problems = entry.profile.problems()
            if entry.profile.name in seen:
                problems.append(f"Two profiles are called '{entry.profile.name}'.")
            seen.add(entry.profile.name)
            problems += self._key_problems(entry)
            if problems:
                return row, problems
        return -1, []

    def _finish(self) -> bool:
        """Check every profile, write typed keys to the keychain and drop entries no profile
        uses any more. False (with the reason shown) if something is wrong."""
        row, problems = self._problems()
        if problems:
            if row != self._row:
                self.profile_list.setCurrentRow(row)
            self.error_label.setText("\n".join(problems))
            self.error_label.show()
            return False
        try:
            for entry in self._entries:
                if entry.secret_key:
                    keychain.store(entry.profile.keychain, entry.access_key, entry.secret_key)
                    entry.access_key = entry.secret_key = ""
        except keychain.KeychainError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return False
        kept = {e.profile.keychain for e in self._entries} - {""}
        for ref in sorted(self._original_refs - kept):
            try:
                keychain.delete(ref)
            except keychain.KeychainError as exc:  # a stale entry must not keep the profiles from being saved
                log.warning("keychain entry %s was not deleted: %s", ref, exc)
        self._original_refs = kept
        return True

    def accept(self) -> None:
        """Connect: keep the profiles and connect to the selected one."""
        if self._finish():
            self.connect_requested = True
            super().accept()

    def save(self) -> None:
        """Keep the profiles without connecting."""
        if self._finish():
            self.connect_requested = False
            super().accept()

    def done(self, result: int) -> None:
        self._test_number += 1  # a test still running answers no one
        self.access_key_edit.clear()
        self.secret_key_edit.clear()
        for entry in self._entries:  # typed keys do not outlive the dialog
            entry.access_key = entry.secret_key = ""
        super().done(result)
