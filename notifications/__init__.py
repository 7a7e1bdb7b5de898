"""Outbox, worker, and one module per channel (email, slack, feishu, dingtalk, wecom)."""
