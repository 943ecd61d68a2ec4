"""An example external claim package for minimacheck (see output_lstsq.py)."""
