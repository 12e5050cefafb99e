"""Special markers the raised text uses; the tokenizer registers them as special tokens.

Kept in one place so raising, tokenizing and evaluation agree on them.
"""

END_OF_TEXT = "<|endoftext|>"

# Dialogue speaker roles: a turn is written as ``<|role|> Name: utterance`` on its own line.
SPEAKER_ROLES = ("self", "mentor", "family", "peer", "teacher", "other")
SPEAKER_TAGS = {role: f"<|{role}|>" for role in SPEAKER_ROLES}

# Value tags (--value-tags): ``<|value:honesty|>span<|/value|>`` and ``<|harm:deception|>span<|/harm|>``.
VALUE_OPEN = "<|value:{value}|>"
VALUE_CLOSE = "<|/value|>"
HARM_OPEN = "<|harm:{category}|>"
HARM_CLOSE = "<|/harm|>"


def speaker_tag(role: str) -> str:
    return SPEAKER_TAGS[role]


def static_special_tokens() -> list[str]:
    """Tokens with a fixed spelling (value/harm tags are added per charter by the tokenizer step)."""
    return [END_OF_TEXT, *SPEAKER_TAGS.values(), VALUE_CLOSE, HARM_CLOSE]
