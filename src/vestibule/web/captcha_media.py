"""The CAPTCHA's parts, shared by every area's forms: the proof-of-work puzzle (for the page's script), the
image and the audio clip. Each reads the browser's current challenge (issuing one if it has none)."""

from __future__ import annotations

import asyncio

from captcha.image import ImageCaptcha
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..services.captcha import Challenge
from . import captcha_audio
from .rendering import client_of, web_of

_image = ImageCaptcha(width=220, height=80)
_NO_STORE = {"cache-control": "no-store"}


async def _challenge(request: Request) -> Challenge:
    return await web_of(request).captcha.current_or_new(client_of(request).browser_hash)


async def captcha_puzzle(request: Request) -> Response:
    puzzle = (await _challenge(request)).puzzle
    return JSONResponse({"seed": puzzle.seed.hex(), "count": puzzle.count, "target": puzzle.target},
                        headers=_NO_STORE)


async def captcha_image(request: Request) -> Response:
    text = (await _challenge(request)).text
    data = await asyncio.to_thread(lambda: _image.generate(text).getvalue())
    return Response(data, media_type="image/png", headers=_NO_STORE)


async def captcha_audio_clip(request: Request) -> Response:
    digits = (await _challenge(request)).digits
    data = await asyncio.to_thread(captcha_audio.generate, digits)
    return Response(data, media_type="audio/wav", headers=_NO_STORE)


routes = [
    Route("/captcha/puzzle", captcha_puzzle, methods=["GET"]),
    Route("/captcha/image", captcha_image, methods=["GET"]),
    Route("/captcha/audio", captcha_audio_clip, methods=["GET"]),
]
