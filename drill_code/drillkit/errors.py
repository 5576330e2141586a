"""The one exception the harness shows to learners.

A `DrillError` carries a paragraph written for a person: what is wrong and what to do
next. The command line prints it without a traceback and exits with status 2.
"""


class DrillError(Exception):
    """A problem with the learner's input or machine, explained in plain words."""
