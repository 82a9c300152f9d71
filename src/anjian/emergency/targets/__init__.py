"""Protection targets (防护目标): schools, hospitals and population points that threat zones
are drawn over, with the enterprises of the one map."""
