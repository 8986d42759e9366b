"""Optimistic concurrency: a resource's ETag is its version; updates must say which version they
change (`If-Match`), so two staff editing at once never silently overwrite each other.

    response.headers["ETag"] = etag(row.version)          # on GET and after a write
    check_if_match(if_match, current_version)              # before a write; 428 / 412
"""

from __future__ import annotations

from .errors import PreconditionFailed, PreconditionRequired

IF_MATCH_HELP = "The ETag of the version you read (from GET); a stale one is refused with 412."


def etag(version: int) -> str:
    """A strong ETag: the version in quotes, e.g. `"7"`."""
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """Raise unless `If-Match` names `version` (or is `*`). Weak ETags (`W/"7"`) match too."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag you read, so a change made since is not overwritten."
        )
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in tags or etag(version) in tags:
        return
    raise PreconditionFailed(
        f"This was changed since you read it (it is now version {version}); reload and try again."
    )
