"""Reading article files: one reader per format, the supported suffixes derived from them."""
