"""Executors: where due jobs run (threads, processes, asyncio, inline)."""
