"""Enterprise API (一企一档)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises 企业"])
