"""Errors caused by what a user gave us (a config, a data file, a folder).

The command line prints these as one clear message and exits with status 2;
anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input that they can fix; the message says how."""
