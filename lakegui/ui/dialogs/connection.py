"""The connection dialog: edit a profile (endpoint, region, AWS profile, bucket). No secrets here."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QVBoxLayout)

from ...core.connection import ADDRESSING_STYLES, ConnectionProfile, available_aws_profiles

DEFAULT_CHAIN = "(default credential chain)"


class ConnectionDialog(QDialog):
    def __init__(self, profile: ConnectionProfile | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Connect to S3")
        self.setObjectName("ConnectionDialog")
        p = profile or ConnectionProfile()

        self.name_edit = QLineEdit(p.name)
        self.endpoint_edit = QLineEdit(p.endpoint_url)
        self.endpoint_edit.setPlaceholderText("empty for AWS; e.g. http://localhost:9000 for MinIO")
        self.region_edit = QLineEdit(p.region)
        self.profile_combo = QComboBox()
        self.profile_combo.setEditable(True)
        self.profile_combo.addItem(DEFAULT_CHAIN)
        self.profile_combo.addItems(available_aws_profiles())
        self.profile_combo.setCurrentText(p.aws_profile or DEFAULT_CHAIN)
        self.bucket_edit = QLineEdit(p.bucket)
        self.style_combo = QComboBox()
        self.style_combo.addItems(ADDRESSING_STYLES)
        self.style_combo.setCurrentText(p.addressing_style)
        self.verify_check = QCheckBox("Verify TLS certificates")
        self.verify_check.setChecked(p.verify_tls)
        self.tls_warning = QLabel("Without verification anyone on the network path can impersonate this "
                                  "endpoint and read or change your data. Turn it off only for a test "
                                  "server you control.")
        self.tls_warning.setObjectName("tlsWarning")
        self.tls_warning.setWordWrap(True)
        self.tls_warning.setStyleSheet("color: #b3261e;")
        self.tls_warning.setVisible(not p.verify_tls)
        self.verify_check.toggled.connect(lambda on: self.tls_warning.setVisible(not on))

        form = QFormLayout()
        for label, widget in (("&Name", self.name_edit), ("&Endpoint URL", self.endpoint_edit),
                              ("&Region", self.region_edit), ("AWS &profile", self.profile_combo),
                              ("&Bucket", self.bucket_edit), ("&Addressing", self.style_combo)):
            widget.setAccessibleName(label.replace("&", ""))
            form.addRow(label, widget)
        form.addRow("", self.verify_check)
        form.addRow("", self.tls_warning)

        note = QLabel("Credentials come from your AWS configuration (environment, ~/.aws files, SSO) "
                      "and are never stored by lakegui.")
        note.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("connectionError")
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def profile(self) -> ConnectionProfile:
        aws_profile = self.profile_combo.currentText().strip()
        return ConnectionProfile(
            name=self.name_edit.text().strip(),
            endpoint_url=self.endpoint_edit.text().strip(),
            region=self.region_edit.text().strip() or "us-east-1",
            aws_profile="" if aws_profile == DEFAULT_CHAIN else aws_profile,
            bucket=self.bucket_edit.text().strip(),
            addressing_style=self.style_combo.currentText(),
            verify_tls=self.verify_check.isChecked(),
        )

    def accept(self) -> None:
        problems = self.profile().problems()
        if problems:
            self.error_label.setText("\n".join(problems))
            self.error_label.show()
            return
        super().accept()
