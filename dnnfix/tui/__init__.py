"""The paste-a-traceback terminal app (`dnnfix tui`). Needs Textual (`pip install 'dnnfix[tui]'`).

app.py: make_app(...) factory shared by the CLI, tests and bench; session.py: what the app works on, no UI;
present.py: plain-text helpers; screens/: one screen per module; widgets/: the paste area, cause list, details.
"""
