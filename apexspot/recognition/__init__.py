"""Recognition: the emotion of a spotted expression (emotion classes and the field's metrics so far)."""
