"""Signed JSON webhooks: each announcement POSTed as JSON, signed with HMAC-SHA256."""
