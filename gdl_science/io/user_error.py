"""The one exception a user sees as a one-line message and exit code 2.

A leaf module (no imports from the package), so that every other module, atomic
writing included, can raise it without an import cycle.
"""

from __future__ import annotations


class UserInputError(Exception):
    """Bad input or usage. The CLI prints it as one line and exits with code 2.

    The message must name the file and the record or line, e.g.
    ``seqs.tsv line 12 (id=chr1_55): unknown character 'X' at position 40``.
    """
