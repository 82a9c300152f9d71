"""The one map (一张图): every domain's map layer behind one API and one page."""
