"""The Qt-free core of lakegui, shared by the GUI and the CLI.

Nothing under this package may import Qt; a test and the before-stop hook check it.
"""
