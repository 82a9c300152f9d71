"""Pure rules of enforcement: the draw, document numbers, penalty clocks. No I/O."""
