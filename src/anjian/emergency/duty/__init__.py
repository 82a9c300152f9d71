"""Duty (值班值守): rosters per agency (leader and duty officers per shift), the handover log,
and 接报 — a call, an alarm, an accident quick report or a report from below becomes an
event in one step, with the duty officer's clock."""
