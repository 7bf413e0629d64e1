"""`python -m panjereh.cli`."""

from panjereh.cli import main

main()
