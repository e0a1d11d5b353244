"""Executors: where due jobs run (threads, processes, asyncio, inline, notebooks, a Dask cluster)."""

__all__: list[str] = []
