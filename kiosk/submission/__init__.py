"""The kiosk's 24-hour self-service submission (一窗受理, docs/cases.md): the handbook, the submission
flow (card, phone, materials scanned or 容缺 signed, locker, receipt) and corrections (补正).

`SubmissionPresenter` (plain Python) drives it; the main kiosk presenter hands over to it from the
home screen's 办事指南 button and forwards card reads, receipt QR scans and idle ticks while it runs.
"""
