"""Reference networks of the course, built from scratch in plain PyTorch.

Each family lives in its own module; the common constructors are re-exported here.
"""
