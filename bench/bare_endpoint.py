#!/usr/bin/env python3
"""The reference point for bench/aws_throughput.py: a bare Starlette endpoint that answers
every request with a canned STS GetCallerIdentity XML body, no parsing, no signature check,
no database. Served by uvicorn with the same event loop and HTTP parser as Vestibule.

    python bench/bare_endpoint.py --port 8099 --workers 2
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
    b"  <GetCallerIdentityResult>\n"
    b"    <Arn>arn:aws:iam::123456789012:user/bench</Arn>\n"
    b"    <UserId>AIDAEXAMPLEEXAMPLE123</UserId>\n"
    b"    <Account>123456789012</Account>\n"
    b"  </GetCallerIdentityResult>\n"
    b"  <ResponseMetadata>\n"
    b"    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n"
    b"  </ResponseMetadata>\n"
    b"</GetCallerIdentityResponse>\n"
)


async def canned(request: Request) -> Response:
    return Response(BODY, media_type="text/xml")


async def health(request: Request) -> Response:
    return Response(b"ok", media_type="text/plain")


app = Starlette(routes=[Route("/", canned, methods=["GET", "POST"]), Route("/_health", health)])


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description="canned-XML Starlette endpoint (benchmark reference)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    uvicorn.run("bare_endpoint:app", host=args.host, port=args.port, workers=args.workers,
                log_level="warning", access_log=False, server_header=False, proxy_headers=False)


if __name__ == "__main__":
    main()
