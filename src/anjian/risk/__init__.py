"""Risk grading and control (风险分级管控), the first half of 双重预防机制."""
