"""Project exceptions whose messages tell a user what happened and what to do next."""


class BotError(Exception):
    """An error a user can act on; the CLI prints its message on one line and exits with 2."""

    exit_code = 2


class ConfigError(BotError):
    """The configuration file is missing, unreadable or invalid."""


class QuestionError(BotError):
    """The question cannot be answered as asked (empty, too long)."""


class CorpusError(BotError):
    """The corpus folder is missing, empty or holds no usable article."""


class IndexMissingError(BotError):
    """No index has been built yet."""


class IndexCorruptError(BotError):
    """An index file is missing or unreadable."""


class IndexMismatchError(BotError):
    """The index was built with another embedding model than the configured one."""


class IndexLockedError(BotError):
    """Another process is writing the index."""


class ModelError(BotError):
    """The embedding model cannot be found or loaded."""


class DependencyError(BotError):
    """An optional dependency is not installed."""
