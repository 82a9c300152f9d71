"""节点设置 (node settings): the settings safe to change at run time, kept in this node's
database and changed by its administrators in the console (node-local: not synced)."""
