"""``python -m deepzoo`` is the ``deepzoo`` command (so ``torchrun -m deepzoo run churn`` works)."""

from .cli import main

if __name__ == "__main__":
    main()
