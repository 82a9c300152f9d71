"""Identity and access (统一身份认证): users, roles, sessions, MFA, lockout."""
