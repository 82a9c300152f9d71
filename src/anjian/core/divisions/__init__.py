"""Administrative divisions (行政区划, GB/T 2260)."""
