"""A classmethod inherited by a subclass, scheduled through the subclass (``Child.create``)."""

from __future__ import annotations


class Base:
    @classmethod
    def create(cls) -> str:
        return cls.__name__


class Child(Base):
    pass
