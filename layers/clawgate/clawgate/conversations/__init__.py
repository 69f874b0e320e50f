"""Conversations and the people in them, whatever the channel: who a person is (`data/people.py`: WhatsApp BSUID,
parent BSUID, phone, username and every channel identity), how a WhatsApp reply addresses them (`addressing`), and
the conversation a peer on a channel account has with the tenant (`data/conversations.py`: mode bot | human,
assignee, labels, note, service window).

This package sits just above `db`: the channel adapters, the agent turn and the operator inbox all use it."""
