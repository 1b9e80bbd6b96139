"""`python -m streamcensus` runs the command-line interface."""

from streamcensus.cli import main

if __name__ == "__main__":
    main()
