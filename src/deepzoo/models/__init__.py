"""The model families: each module (or sub-package) holds its networks, then its estimators, and registers
them with the engine.
"""
