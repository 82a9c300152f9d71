"""Administrative enforcement (行政执法): plans, the random draw (双随机一公开), inspections,
enforcement documents, penalties and the mobile enforcement terminal (移动执法终端)."""
