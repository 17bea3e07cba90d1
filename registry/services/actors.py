"""Who does something: every change is signed ("谁签字，谁担责")."""

from __future__ import annotations

from dataclasses import dataclass

from registry import roles
from registry.services.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    display_name: str = ""
    client_addr: str = ""

    @property
    def signature(self) -> str:
        """The name written into status histories: display name with the account."""
        if self.display_name and self.display_name != self.username:
            return f"{self.display_name}（{self.username}）"
        return self.username

    @classmethod
    def system(cls, name: str, client_addr: str = "") -> Actor:
        """A trusted local operator (CLI, demo loader): allowed everything, still logged."""
        return cls(username=name, role=roles.SYSTEM, display_name=name, client_addr=client_addr)


def as_actor(who: Actor | str) -> Actor:
    return who if isinstance(who, Actor) else Actor.system(who)


def require(actor: Actor, permission: str) -> None:
    if not roles.allowed(actor.role, permission):
        zh_role, en_role = roles.ROLE_LABELS.get(actor.role, (actor.role, actor.role))
        raise Forbidden(
            f"您的角色（{zh_role}）无权执行此操作（{permission}）。请联系有权限的同事或管理员。",
            f"Your role ({en_role}) may not do this ({permission}). Ask a colleague with "
            "that permission or an administrator.",
        )
