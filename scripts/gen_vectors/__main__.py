"""`python3 -m gen_vectors` (from scripts/) does what scripts/gen_vectors.py does."""

from .cli import main

main()
