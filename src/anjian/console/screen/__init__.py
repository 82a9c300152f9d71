"""The command screen (大屏): one full-screen, dark, live page per tier with the jurisdiction's
figures from every domain."""
