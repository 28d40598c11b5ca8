"""Dataset readers (CASME II, SAMM), the synthetic stand-in, and the clip manifest."""
