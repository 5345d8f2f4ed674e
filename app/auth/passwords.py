"""Password hashing with argon2id (argon2-cffi) and the password policy."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 10


def _hasher() -> PasswordHasher:
    # Tests use cheap parameters (ARGON2_PARAMS); everywhere else argon2-cffi's RFC 9106 defaults.
    return PasswordHasher(**current_app.config.get("ARGON2_PARAMS", {}))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problems(password: str, *, username: str = "") -> list[str]:
    """What is wrong with a new password, in Chinese; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少需要 {MIN_LENGTH} 个字符")
    if len(password) > 256:
        problems.append("密码不能超过 256 个字符")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append("密码需同时包含字母和数字")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    return problems
