"""`python -m achroma run ...`: the same as the `achroma` command."""

from achroma.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
