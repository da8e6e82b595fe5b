"""Accounts: users, roles, sign-up, login, password reset, settings and public purchasers' institutions."""
