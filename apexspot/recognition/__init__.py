"""Recognition: the emotion of each spotted expression (classes, networks, the stages' logic, UF1, UAR, STRS)."""
