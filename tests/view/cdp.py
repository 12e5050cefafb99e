"""Drive headless Chromium over the DevTools protocol (a websocket, with aiohttp): open pages, run a
line of JavaScript in them (fill a form, click), wait for the next page to load, and hear every
``alert`` a page tries to open. Chromium is found or installed as the report test does."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


class Chromium:
    """A headless Chromium listening for DevTools on a free loopback port."""

    def __init__(self, binary: str, profile: Path):
        shutil.rmtree(profile, ignore_errors=True)
        profile.mkdir(parents=True)
        self.proc = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (active.exists() and active.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        self.port = int(active.read_text().split()[0])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Page:
    """One browser tab."""

    def __init__(self, session: aiohttp.ClientSession, ws, target_id: str, port: int):
        self.session, self.ws, self.target_id, self.port = session, ws, target_id, port
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.loaded = asyncio.Event()
        self.dialogs: list[dict] = []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, port: int) -> "Page":
        session = aiohttp.ClientSession()
        async with session.put(f"http://127.0.0.1:{port}/json/new?about:blank") as resp:
            target = await resp.json(content_type=None)
        ws = await session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = cls(session, ws, target["id"], port)
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        return page

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Page.loadEventFired":
                self.loaded.set()
            elif data.get("method") == "Page.javascriptDialogOpening":
                self.dialogs.append(data["params"])
                await self.ws.send_json(
                    {"id": next(self.ids), "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}
                )

    async def send(self, method: str, **params) -> dict:
        msg_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = future
        await self.ws.send_json({"id": msg_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def goto(self, url: str) -> None:
        self.loaded.clear()
        result = await self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise RuntimeError(f"{url}: {result['errorText']}")
        await asyncio.wait_for(self.loaded.wait(), 30)

    async def eval(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def act(self, expression: str) -> None:
        """Run ``expression`` (one that submits a form or follows a link) and wait for the next page."""
        self.loaded.clear()
        await self.eval(expression)
        await asyncio.wait_for(self.loaded.wait(), 30)

    async def close(self) -> None:
        try:
            async with self.session.get(f"http://127.0.0.1:{self.port}/json/close/{self.target_id}"):
                pass
        finally:
            self.reader.cancel()
            await self.ws.close()
            await self.session.close()
