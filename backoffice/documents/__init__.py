"""The papers a dossier gives the citizen: receipt slip, pre-filled declarations, payment QR.

Pure drawing, apart from the office's workflow: answers in, PDF/PNG bytes out. The package may
use ``knowledge``, the standard library and its PDF/QR libraries (fpdf2, segno, and matplotlib
only for the DejaVu Sans files it ships); import-linter forbids storage, the web and messenger
frameworks and the rest of the office.
"""
