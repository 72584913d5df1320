"""The CAPTCHA image and its audio version, shared by every area's forms."""

from __future__ import annotations

import asyncio

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .rendering import client_of, web_of

_image = ImageCaptcha(width=220, height=80)
_audio = AudioCaptcha()


async def _captcha_text(request: Request) -> str:
    web = web_of(request)
    browser = client_of(request).browser_hash
    text = await web.captcha.current_text(browser)
    if text is None:
        await web.captcha.issue(browser)
        text = await web.captcha.current_text(browser)
    assert text is not None
    return text


async def captcha_image(request: Request) -> Response:
    text = await _captcha_text(request)
    data = await asyncio.to_thread(lambda: _image.generate(text).getvalue())
    return Response(data, media_type="image/png", headers={"cache-control": "no-store"})


async def captcha_audio(request: Request) -> Response:
    text = await _captcha_text(request)
    data = await asyncio.to_thread(lambda: bytes(_audio.generate(text)))
    return Response(data, media_type="audio/wav", headers={"cache-control": "no-store"})


routes = [
    Route("/captcha/image", captcha_image, methods=["GET"]),
    Route("/captcha/audio", captcha_audio, methods=["GET"]),
]
