"""Long recordings: the face followed, moving-reference flow, the interval spotter, MEGC scoring."""
