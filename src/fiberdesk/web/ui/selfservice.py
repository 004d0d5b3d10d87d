"""Public self-service pages: sign-up, outage status, ticket status by signed link."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["self-service"], include_in_schema=False)
