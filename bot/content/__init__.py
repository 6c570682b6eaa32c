"""Question content: packs on disk, the checker behind `studybot content check`, seed imports."""

from __future__ import annotations

from bot.content.check import check_content
from bot.content.packs import ContentBank, PackInfo, Problem, load_bank

__all__ = ["ContentBank", "PackInfo", "Problem", "check_content", "load_bank"]
