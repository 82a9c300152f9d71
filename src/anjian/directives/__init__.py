"""Directives and notices (通知、指令) from upper agencies, and their receipts (签收)."""
