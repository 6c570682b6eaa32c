"""studybot: a daily LLM interview question for study groups and individuals."""

__version__ = "0.1.0"
