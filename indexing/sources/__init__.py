"""Reading article files.

- `scan`: which entries of a folder are article files (the rest reported or ignored, by rule);
- `files`: read one file safely into Articles (no exception escapes it);
- `formats/`: one reader per format, one module each; the supported suffixes come from them;
- `article`, `dates`, `paths`: the Article record and its checks, the date rules, path texts;
- `html`: trafilatura extraction, shared with the feed poller.
"""
